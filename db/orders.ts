import type { Client } from '@temporalio/client'
import { z } from 'zod'
import { decideDebit } from '#domain/credit.ts'
import { formatMoney, type Money } from '#domain/money.ts'
import { MAX_ID } from '#domain/ids.ts'
import { priceForRole } from '#domain/pricing.ts'
import { multiLineText, nameText, singleLineText } from '#domain/text.ts'
import {
  cancelOrderUpdate,
  ORDER_CANCEL_REFUSED,
  orderStatusQuery,
  type CancelOrderInput,
  type OrderCancelled,
  type OrderCancelRefusal,
  type OrderStatus as LiveOrderStatus,
} from '#temporal/messages.ts'
import { startOrderWorkflow } from '#temporal/start.ts'
import { sendUpdate } from '#temporal/updates.ts'
import { orderWorkflowId } from '#temporal/workflow-ids.ts'
import { getWallet } from './ledger.ts'
import type { Db } from './knex.ts'
import type { Order, OrderKind, OrderPayMethod, OrderStatus, Role } from './models.ts'

/**
 * Orders: the service the web app, the bot and the CLI call to buy or renew an account (`placeOrder`), and the
 * queries the order workflow's activities use. Refusals are `OrderRefusedError`s whose message is written for the
 * buyer; nothing is written when an order is refused.
 */
export type OrderRow = Order

export type OrderRefusalCode =
  | 'INVALID_INPUT'
  | 'USER_NOT_FOUND'
  | 'USER_DISABLED'
  | 'PLAN_NOT_FOUND'
  | 'PLAN_INACTIVE'
  | 'LOCATION_REQUIRED'
  | 'LOCATION_NOT_ALLOWED'
  | 'ACCOUNT_NOT_FOUND'
  | 'NEGATIVE_CREDIT'
  | 'INSUFFICIENT_CREDIT'
  | 'MAX_ACCOUNTS_REACHED'
  | 'WORKFLOW_START_FAILED'

export class OrderRefusedError extends Error {
  override name = 'OrderRefusedError'
  constructor(
    readonly code: OrderRefusalCode,
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

export const PlaceOrderInputSchema = z
  .object({
    userId: z.number().int().positive().max(MAX_ID),
    planId: z.number().int().positive().max(MAX_ID),
    locationId: z.number().int().positive().max(MAX_ID).nullish(),
    payMethod: z.enum(['wallet', 'receipt', 'zarinpal']).default('wallet'),
    kind: z.enum(['new', 'renew', 'extend']).default('new'),
    accountId: z.number().int().positive().max(MAX_ID).nullish(),
    idempotencyKey: singleLineText({ max: 200 }).nullish(),
    requestedUsername: nameText({ min: 0, max: 64 }).nullish(),
    note: multiLineText({ min: 0, max: 500 }).nullish(),
  })
  .superRefine((v, ctx) => {
    if (v.kind !== 'new' && !v.accountId) ctx.addIssue({ code: 'custom', path: ['accountId'], message: 'A renewal needs the account to renew' })
    if (v.kind === 'new' && v.accountId) ctx.addIssue({ code: 'custom', path: ['accountId'], message: 'A new order cannot name an existing account' })
  })
export type PlaceOrderInput = z.input<typeof PlaceOrderInputSchema>

export interface PlacedOrder {
  order: OrderRow
  workflowId: string
  /** false when the idempotency key matched an earlier order: that order is returned and nothing new is made. */
  created: boolean
}

function money(amount: Money): string {
  return formatMoney(amount, { locale: 'en' })
}

async function findByKey(db: Db, userId: number, key: string): Promise<OrderRow | undefined> {
  return db('orders').where({ userId, idempotencyKey: key }).first()
}

/**
 * Validates an order, stores it and starts its `orderToProvision` workflow (`order-<id>`). Checks, in order: the
 * buyer is active; the plan exists and is on sale; the location is one the plan is sold in and the agent may sell
 * in (an agent with no location list may sell everywhere); an agent with negative credit is refused (the 24-hour
 * rule); an agent at their account limit is refused; a wallet order must be affordable now (the debit in the
 * workflow is the final word). The price is the buyer's role price.
 */
export async function placeOrder(db: Db, client: Client, raw: PlaceOrderInput): Promise<PlacedOrder> {
  const parsed = PlaceOrderInputSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new OrderRefusedError('INVALID_INPUT', issue.message, issue.path.join('.'))
  }
  const input = parsed.data
  if (input.idempotencyKey) {
    const existing = await findByKey(db, input.userId, input.idempotencyKey)
    if (existing) {
      const handle = await startOrderWorkflow(client, existing.id)
      return { order: existing, workflowId: handle.workflowId, created: false }
    }
  }

  const user: { id: number; role: Role; status: string } | undefined = await db('users').where({ id: input.userId }).first('id', 'role', 'status')
  if (!user) throw new OrderRefusedError('USER_NOT_FOUND', `User ${input.userId} does not exist`, 'userId')
  if (user.status !== 'active') throw new OrderRefusedError('USER_DISABLED', 'This user account is disabled and cannot order', 'userId')

  const plan = await db('plans').where({ id: input.planId }).first()
  if (!plan) throw new OrderRefusedError('PLAN_NOT_FOUND', `Plan ${input.planId} does not exist`, 'planId')
  if (!plan.active) throw new OrderRefusedError('PLAN_INACTIVE', `The plan "${plan.nameEn}" is no longer on sale`, 'planId')

  let locationId: number
  let accountId: number | null = null
  if (input.kind === 'new') {
    if (!input.locationId) throw new OrderRefusedError('LOCATION_REQUIRED', 'Choose a location for the new account', 'locationId')
    locationId = input.locationId
  } else {
    const account = await db('accounts as a').join('panels as p', 'p.id', 'a.panelId').where('a.id', input.accountId!).first('a.id', 'a.userId', 'a.status', 'p.locationId')
    if (!account || account.userId !== user.id || account.status === 'deleted') {
      throw new OrderRefusedError('ACCOUNT_NOT_FOUND', `Account ${input.accountId} is not one of your accounts`, 'accountId')
    }
    locationId = account.locationId
    accountId = account.id
  }
  const location = await db('locations').where({ id: locationId }).first('id', 'active', 'nameEn')
  const planSoldThere = await db('planLocations').where({ planId: plan.id, locationId }).first('planId')
  if (!location || !location.active || !planSoldThere) {
    throw new OrderRefusedError('LOCATION_NOT_ALLOWED', `The plan "${plan.nameEn}" is not sold in ${location ? `"${location.nameEn}"` : `location ${locationId}`}`, 'locationId')
  }

  const price = priceForRole(user.role, { price: BigInt(plan.price), agentPrice: BigInt(plan.agentPrice) })
  if (user.role === 'agent') {
    const allowed = await db('agentLocations').where({ agentUserId: user.id }).pluck('locationId')
    if (allowed.length > 0 && !allowed.includes(locationId)) {
      throw new OrderRefusedError('LOCATION_NOT_ALLOWED', `You may not sell accounts in "${location.nameEn}"`, 'locationId')
    }
    const wallet = await getWallet(db, user.id)
    if (wallet.usable < 0n) {
      throw new OrderRefusedError(
        'NEGATIVE_CREDIT',
        `New orders are blocked while your credit is negative (${money(wallet.usable)}). Top up at least ${money(-wallet.usable)} first.`,
      )
    }
    if (input.kind === 'new') {
      const agent = await db('agents').where({ userId: user.id }).first('maxActiveAccounts')
      const max: number | null = agent?.maxActiveAccounts ?? null
      if (max !== null) {
        const activeRow = await db('accounts').where({ userId: user.id, status: 'active' }).first(db.raw('count(*)::int as "n"'))
        const inFlightRow = await db('orders')
          .where({ userId: user.id, kind: 'new' })
          .whereIn('status', ['pending', 'awaiting_payment', 'provisioning'])
          .first(db.raw('count(*)::int as "n"'))
        const count = Number(activeRow?.n ?? 0) + Number(inFlightRow?.n ?? 0)
        if (count >= max) {
          throw new OrderRefusedError('MAX_ACCOUNTS_REACHED', `You already have ${count} active accounts (or orders on the way), the most your reseller profile allows (${max})`)
        }
      }
    }
  }
  if (input.payMethod === 'wallet') {
    const wallet = await getWallet(db, user.id)
    const decision = decideDebit(user.role, wallet, price)
    if (!decision.ok && decision.reason === 'INSUFFICIENT_CREDIT') {
      throw new OrderRefusedError('INSUFFICIENT_CREDIT', `Not enough credit: this costs ${money(price)} but only ${money(decision.available)} is available. Top up or pay by receipt.`)
    }
    if (!decision.ok) throw new OrderRefusedError('NEGATIVE_CREDIT', `New orders are blocked while your credit is negative (${money(decision.usable)}).`)
  }

  let order: OrderRow
  try {
    order = await db.transaction(async (trx) => {
      const [row] = await trx('orders')
        .insert({
          userId: user.id,
          planId: plan.id,
          locationId,
          kind: input.kind,
          accountId,
          payMethod: input.payMethod,
          price: price.toString(),
          status: 'pending',
          idempotencyKey: input.idempotencyKey ?? null,
          requestedUsername: input.requestedUsername ?? null,
          note: input.note ?? null,
        })
        .returning('*')
      const [withId] = await trx('orders').where({ id: row.id }).update({ workflowId: orderWorkflowId(row.id) }, '*')
      return withId as OrderRow
    })
  } catch (error) {
    // Two requests with the same key raced: the other one stored the order.
    if (input.idempotencyKey && (error as { code?: string }).code === '23505') {
      const existing = await findByKey(db, input.userId, input.idempotencyKey)
      if (existing) {
        const handle = await startOrderWorkflow(client, existing.id)
        return { order: existing, workflowId: handle.workflowId, created: false }
      }
    }
    throw error
  }
  try {
    const handle = await startOrderWorkflow(client, order.id)
    return { order, workflowId: handle.workflowId, created: true }
  } catch (error) {
    // The workflow never started, so nothing else references the row: remove it rather than leave an order nobody runs.
    await db('orders').where({ id: order.id, status: 'pending' }).delete()
    throw new OrderRefusedError('WORKFLOW_START_FAILED', `The order could not be started, please try again: ${error instanceof Error ? error.message : String(error)}`)
  }
}

// ---- queries used by the order workflow's activities -------------------------------------------------

export async function getOrder(db: Db, orderId: number): Promise<OrderRow | undefined> {
  return db('orders').where({ id: orderId }).first()
}

export const TERMINAL_ORDER_STATES: readonly OrderStatus[] = ['delivered', 'failed', 'cancelled', 'refunded']

/**
 * Moves an order to `status` unless it already reached a terminal state (a replayed or late step never undoes a
 * delivery or a failure). `refunded` may follow `delivered` (the account was refunded later).
 */
export async function setOrderStatus(db: Db, orderId: number, status: OrderStatus, extra: { failureReason?: string | null; accountId?: number } = {}): Promise<boolean> {
  const patch: Record<string, unknown> = { status, updatedAt: db.fn.now() }
  if (extra.failureReason !== undefined) patch.failureReason = extra.failureReason
  if (extra.accountId !== undefined) patch.accountId = extra.accountId
  if (status === 'delivered') patch.deliveredAt = db.fn.now()
  const q = db('orders').where({ id: orderId })
  if (status === 'refunded') q.whereIn('status', ['delivered', 'refunded'])
  else q.whereNotIn('status', TERMINAL_ORDER_STATES.filter((s) => s !== status) as OrderStatus[])
  const updated = await q.update(patch)
  return updated > 0
}

export interface OrderView {
  order: OrderRow
  /** The workflow's live status when it is reachable (running or recently closed), else null. */
  live: LiveOrderStatus | null
}

/** The stored order and, when Temporal can be asked, its live status. */
export async function getOrderView(db: Db, client: Client, orderId: number): Promise<OrderView | undefined> {
  const order = await getOrder(db, orderId)
  if (!order) return undefined
  let live: LiveOrderStatus | null = null
  try {
    live = await client.workflow.getHandle(orderWorkflowId(orderId)).query(orderStatusQuery)
  } catch {
    live = null
  }
  return { order, live }
}

export type CancelOrderResult =
  /** The order is cancelled and anything debited is back in the wallet. */
  | { ok: true; cancelled: OrderCancelled; message: string }
  /** The cancel was taken; the order had not finished undoing itself when the wait ended. */
  | { ok: true; cancelled: null; message: string }
  | { ok: false; reason: OrderCancelRefusal['reason']; refusal: OrderCancelRefusal; message: string }
  /** `not_found`: no such order; `no_workflow`: no workflow runs it; `no_answer`: no worker answered in time. */
  | { ok: false; reason: 'not_found' | 'no_workflow' | 'no_answer'; refusal: null; message: string }

/** The English sentence for a refusal (CLI output, logs); the web app and the bot word it in the reader's language. */
export function describeCancelRefusal(refusal: OrderCancelRefusal): string {
  if (refusal.reason === 'too_late') return `Too late: order ${refusal.orderId} is already ${refusal.state}; it cannot be cancelled`
  const by = refusal.cancelledBy === null ? '' : ` by user #${refusal.cancelledBy}`
  return `Order ${refusal.orderId} was already cancelled${by}${refusal.cancelledAt ? ` at ${refusal.cancelledAt}` : ''}`
}

const cancelRefused = (refusal: OrderCancelRefusal): CancelOrderResult => ({ ok: false, reason: refusal.reason, refusal, message: describeCancelRefusal(refusal) })

/** The refusal a finished order row stands for, when its workflow is gone. */
function finishedRefusal(order: OrderRow): OrderCancelRefusal | null {
  if (order.status === 'cancelled') return { reason: 'already_cancelled', orderId: order.id, cancelledBy: null, cancelledAt: null }
  if (order.status === 'delivered' || order.status === 'refunded' || order.status === 'failed') return { reason: 'too_late', orderId: order.id, state: order.status }
  return null
}

/**
 * Cancels an order that is not delivered yet, as `cancelOrderUpdate` on its workflow, which refunds and cleans up
 * itself: the answer (cancelled with the refund, or refused: too late, already cancelled by whom and when) comes
 * from the workflow within `waitMs`. An order whose workflow has closed is answered from its row.
 */
export async function cancelOrder(
  db: Db,
  client: Client,
  orderId: number,
  input: { reason: string; actorUserId: number | null },
  options: { waitMs?: number } = {},
): Promise<CancelOrderResult> {
  const order = await getOrder(db, orderId)
  if (!order) return { ok: false, reason: 'not_found', refusal: null, message: `Order ${orderId} does not exist` }
  const waitMs = options.waitMs ?? 10_000
  const answer = await sendUpdate<OrderCancelled, CancelOrderInput, OrderCancelRefusal>(client, orderWorkflowId(orderId), cancelOrderUpdate, input, {
    refusalType: ORDER_CANCEL_REFUSED,
    waitMs,
  })
  switch (answer.kind) {
    case 'done': {
      const refunded = answer.result.refunded
      return { ok: true, cancelled: answer.result, message: `Order ${orderId} cancelled; ${refunded === '0' ? 'nothing had been charged' : `${refunded} refunded`}` }
    }
    case 'accepted':
      return { ok: true, cancelled: null, message: `Cancellation of order ${orderId} accepted; it is being undone and anything paid is refunded` }
    case 'refused':
      return cancelRefused(answer.refusal)
    case 'no_answer':
      return {
        ok: false,
        reason: 'no_answer',
        refusal: null,
        message: `The workflow of order ${orderId} did not answer within ${Math.round(waitMs / 1000)} s, so the cancel is not confirmed; look at the order again before cancelling again`,
      }
    case 'no_workflow':
      break
  }
  const now = (await getOrder(db, orderId)) ?? order
  const refusal = finishedRefusal(now)
  if (refusal) return cancelRefused(refusal)
  return { ok: false, reason: 'no_workflow', refusal: null, message: `No workflow runs order ${orderId}, so it cannot be cancelled` }
}

export type { OrderKind, OrderPayMethod }
