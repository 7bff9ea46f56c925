import type { AppLoadContext } from '@remix-run/node'
import type { Client } from '@temporalio/client'
import type { Db } from '#db/knex.ts'
import { orderStatusQuery, paymentStatusQuery, refundStatusQuery, type OrderStatus, type PaymentStatus, type RefundStatus } from '#temporal/messages.ts'
import { orderWorkflowId, paymentWorkflowId, refundWorkflowId } from '#temporal/workflow-ids.ts'
import { lastStatusKey } from '#config/redis-names.ts'
import type { LiveKind, LiveStatus } from '~/components/status-tracker.tsx'

/**
 * The live state of an order or a payment as people see it. Three sources, freshest first: the workflow's
 * own `status` query, the last status its activities published on Redis (`<REDIS_PREFIX>:status:last:<id>`), and
 * the stored row. Whatever answers, the result has one shape, so a page reopened later shows the same state.
 */

/** Redis channel and key written by the activities (activities/notifications.ts `publish`), under the installation's prefix. */
export { lastStatusKey, statusChannel } from '#config/redis-names.ts'

export const FINAL_ORDER_STEPS = new Set(['delivered', 'refunded', 'failed', 'cancelled'])
export const FINAL_PAYMENT_STEPS = new Set(['approved', 'rejected', 'expired'])
export const FINAL_REFUND_STEPS = new Set(['done', 'failed'])

/** The workflow behind a status: `order-<id>`, `payment-<id>`, or `refund-<accountId>`. */
export function workflowIdOf(kind: LiveKind, id: number): string {
  return kind === 'order' ? orderWorkflowId(id) : kind === 'payment' ? paymentWorkflowId(id) : refundWorkflowId(id)
}

/** What the status routes need of a row: who owns it, and its stored state for the fallback. */
export interface StatusSubject {
  kind: LiveKind
  id: number
  userId: number
  stored: LiveStatus
}

const ROW_TO_STEP: Record<string, string> = {
  pending: 'queued',
  awaiting_payment: 'awaiting_payment',
  provisioning: 'provisioning',
  delivered: 'delivered',
  failed: 'failed',
  cancelled: 'cancelled',
  refunded: 'refunded',
}

/** Loads the order or payment with its stored state; undefined when there is none. */
export async function loadSubject(db: Db, kind: LiveKind, id: number): Promise<StatusSubject | undefined> {
  if (kind === 'order') {
    const order = await db('orders as o')
      .leftJoin('accounts as a', 'a.id', 'o.accountId')
      .where('o.id', id)
      .first('o.id', 'o.userId', 'o.status', 'o.payMethod', 'o.accountId', 'o.failureReason', 'a.subscriptionUrl')
    if (!order) return undefined
    const payment = await db('payments').where({ orderId: id }).orderBy('id', 'desc').first('id')
    const step = ROW_TO_STEP[order.status] ?? 'queued'
    return {
      kind,
      id,
      userId: order.userId,
      stored: {
        kind,
        id,
        step,
        attempt: 0,
        lastError: order.status === 'failed' || order.status === 'cancelled' ? order.failureReason : null,
        accountId: order.accountId,
        subscriptionUrl: step === 'delivered' ? (order.subscriptionUrl ?? null) : null,
        paymentId: payment?.id ?? null,
        balanceAfter: null,
        amount: null,
        final: FINAL_ORDER_STEPS.has(step),
      },
    }
  }
  if (kind === 'refund') {
    const account = await db('accounts').where({ id }).first('id', 'userId', 'status')
    if (!account) return undefined
    // Only a deleted account (or one disabled with the note `refunded`) has been refunded; otherwise no refund has run yet.
    const done = account.status === 'deleted'
    return {
      kind,
      id,
      userId: account.userId,
      stored: { ...emptyStatus(kind, id), step: done ? 'done' : 'quoting', final: done },
    }
  }
  const payment = await db('payments').where({ id }).first('id', 'userId', 'status', 'note', 'orderId')
  if (!payment) return undefined
  const step = String(payment.status).toLowerCase()
  return {
    kind,
    id,
    userId: payment.userId,
    stored: {
      kind,
      id,
      step,
      attempt: 0,
      lastError: step === 'rejected' ? payment.note : null,
      accountId: null,
      subscriptionUrl: null,
      paymentId: id,
      balanceAfter: null,
      amount: null,
      final: FINAL_PAYMENT_STEPS.has(step),
    },
  }
}

function emptyStatus(kind: LiveKind, id: number): LiveStatus {
  return { kind, id, step: 'queued', attempt: 0, lastError: null, accountId: null, subscriptionUrl: null, paymentId: null, balanceAfter: null, amount: null, final: false }
}

export function fromOrderStatus(status: OrderStatus): LiveStatus {
  return {
    kind: 'order',
    id: status.orderId,
    step: status.step,
    attempt: status.attempt,
    lastError: status.lastError,
    accountId: status.accountId,
    subscriptionUrl: status.subscriptionUrl,
    paymentId: status.paymentId,
    balanceAfter: null,
    amount: null,
    final: FINAL_ORDER_STEPS.has(status.step),
  }
}

export function fromPaymentStatus(status: PaymentStatus): LiveStatus {
  const step = status.status.toLowerCase()
  return {
    kind: 'payment',
    id: status.paymentId,
    step,
    attempt: 0,
    lastError: step === 'rejected' ? status.note : null,
    accountId: null,
    subscriptionUrl: null,
    paymentId: status.paymentId,
    balanceAfter: status.balanceAfter,
    amount: null,
    final: FINAL_PAYMENT_STEPS.has(step),
  }
}

export function fromRefundStatus(status: RefundStatus): LiveStatus {
  return {
    ...emptyStatus('refund', status.accountId),
    step: status.step,
    lastError: status.lastError,
    accountId: status.accountId,
    amount: status.amount,
    final: FINAL_REFUND_STEPS.has(status.step),
  }
}

/** Parses a status published on Redis; undefined for anything that is not one of ours. */
export function parsePublished(kind: LiveKind, id: number, json: string | null): LiveStatus | undefined {
  if (!json) return undefined
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    return undefined
  }
  if (!value || typeof value !== 'object') return undefined
  const v = value as Record<string, unknown>
  if (kind === 'order' && v.orderId === id && typeof v.step === 'string') return fromOrderStatus(v as unknown as OrderStatus)
  if (kind === 'payment' && v.paymentId === id && typeof v.status === 'string') return fromPaymentStatus(v as unknown as PaymentStatus)
  if (kind === 'refund' && v.accountId === id && typeof v.step === 'string') return fromRefundStatus(v as unknown as RefundStatus)
  return undefined
}

/** A live state, with what only the row knows filled in. */
function reconcile(live: LiveStatus | undefined, stored: LiveStatus): LiveStatus {
  if (!live) return stored
  return { ...live, paymentId: live.paymentId ?? stored.paymentId, subscriptionUrl: live.subscriptionUrl ?? stored.subscriptionUrl }
}

async function queryWorkflow(client: Client, kind: LiveKind, id: number, timeoutMs: number): Promise<LiveStatus | undefined> {
  const handle = client.workflow.getHandle(workflowIdOf(kind, id))
  const deadline = new Date(Date.now() + timeoutMs)
  try {
    if (kind === 'order') return fromOrderStatus(await client.withDeadline(deadline, () => handle.query(orderStatusQuery)))
    if (kind === 'payment') return fromPaymentStatus(await client.withDeadline(deadline, () => handle.query(paymentStatusQuery)))
    return fromRefundStatus(await client.withDeadline(deadline, () => handle.query(refundStatusQuery)))
  } catch {
    // Not started yet, no worker to answer, or Temporal away: the other sources answer instead.
    return undefined
  }
}

export async function readPublished(context: AppLoadContext, kind: LiveKind, id: number): Promise<LiveStatus | undefined> {
  try {
    return parsePublished(kind, id, await context.redis.get(lastStatusKey(context.env, workflowIdOf(kind, id))))
  } catch {
    return undefined
  }
}

/** The workflow's answer, else the last published status; undefined when neither knows the workflow. */
export async function findLive(context: AppLoadContext, kind: LiveKind, id: number, options: { queryTimeoutMs?: number } = {}): Promise<LiveStatus | undefined> {
  let live: LiveStatus | undefined
  try {
    const client = await context.temporal.getClient()
    live = await queryWorkflow(client, kind, id, options.queryTimeoutMs ?? 2000)
  } catch {
    live = undefined
  }
  return live ?? (await readPublished(context, kind, id))
}

/** The current state: the workflow's answer when it gives one, else the last published status, else the row. */
export async function readLiveStatus(context: AppLoadContext, subject: StatusSubject, options: { queryTimeoutMs?: number } = {}): Promise<LiveStatus> {
  // A row that has ended is the last word; asking the workflow would only replay its history.
  if (subject.stored.final) return subject.stored
  return reconcile(await findLive(context, subject.kind, subject.id, options), subject.stored)
}
