import type { Client } from '@temporalio/client'
import type { Knex } from 'knex'
import { z } from 'zod'
import { decidePlacement } from '#domain/credit.ts'
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
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'WORKFLOW_START_FAILED'

export class OrderRefusedError extends Error {
  override name = 'OrderRefusedError'
  constructor(
    readonly code: OrderRefusalCode,
    message: string,
    readonly field?: string,
    /** INSUFFICIENT_CREDIT: what is left to spend; IDEMPOTENCY_KEY_REUSED: the order the key belongs to. */
    readonly facts: { available?: Money; orderId?: number } = {},
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

type ParsedPlaceOrderInput = z.output<typeof PlaceOrderInputSchema>

/**
 * A repeated key must ask for the same order: plan, kind, location (new) or account (renewal), how it is paid, the
 * label and the note. Anything else is a new order under an old key, refused rather than answered with the old one.
 */
function assertSameOrder(existing: OrderRow, input: ParsedPlaceOrderInput): void {
  const same =
    existing.planId === input.planId &&
    existing.kind === input.kind &&
    existing.payMethod === input.payMethod &&
    (input.kind === 'new' ? existing.locationId === (input.locationId ?? null) : existing.accountId === (input.accountId ?? null)) &&
    (existing.requestedUsername ?? null) === (input.requestedUsername ?? null) &&
    (existing.note ?? null) === (input.note ?? null)
  if (!same) {
    throw new OrderRefusedError(
      'IDEMPOTENCY_KEY_REUSED',
      `This idempotency key was already used for order ${existing.id} with different details; use a new key for a new order`,
      undefined,
      { orderId: existing.id },
    )
  }
}

/** The order a repeated key found: its workflow is started when it never was (the process died after the insert). */
async function resumeOrder(client: Client, existing: OrderRow, input: ParsedPlaceOrderInput): Promise<PlacedOrder> {
  assertSameOrder(existing, input)
  if (TERMINAL_ORDER_STATES.includes(existing.status)) return { order: existing, workflowId: orderWorkflowId(existing.id), created: false }
  const handle = await startOrderWorkflow(client, existing.id)
  return { order: existing, workflowId: handle.workflowId, created: false }
}

/**
 * What this user's wallet orders placed and not yet debited will take: orders still `pending` whose ORDER_DEBIT is
 * not in the ledger. Read under the wallet lock, which the debit takes too, so each order is counted either here or
 * in the balance, never in both and never in neither.
 */
async function reservedCredit(trx: Knex.Transaction, userId: number): Promise<Money> {
  const row = await trx('orders as o')
    .where({ 'o.userId': userId, 'o.payMethod': 'wallet', 'o.status': 'pending' })
    .whereNotExists(
      trx('ledgerEntries as e')
        .select(trx.raw('1'))
        .whereRaw('e.wallet_user_id = o.user_id')
        .where({ 'e.referenceType': 'order', 'e.type': 'ORDER_DEBIT' })
        .whereRaw('e.reference_id = o.id::text'),
    )
    .first(trx.raw('coalesce(sum(o.price), 0)::text as "reserved"'))
  return BigInt((row as { reserved: string } | undefined)?.reserved ?? '0')
}

export interface PlaceOrderOptions {
  /**
   * Runs after the order row is committed and before its workflow is started. A test seam: tests stop the process
   * here to leave an order that no workflow runs, for the reconciler to find.
   */
  afterCommit?: (order: OrderRow) => Promise<void> | void
}

/**
 * Validates an order, stores it and then, once the row is committed, starts its `orderToProvision` workflow
 * (`order-<id>`). Checks, in order: the buyer is active; the plan exists and is on sale; the location is one the
 * plan is sold in and the agent may sell in (an agent with no location list may sell everywhere); then, under a lock
 * on the buyer's wallet and in the transaction that inserts the row: an agent with negative credit is refused (the
 * 24-hour rule); an agent at their account limit is refused; a wallet order must be affordable with what the wallet
 * orders placed before it and not yet debited leave (the debit in the workflow is the final word). The price is the
 * buyer's role price.
 *
 * With an idempotency key, a repeat returns the first order (and starts its workflow if the first request died
 * before it could); the same key with different details is refused (IDEMPOTENCY_KEY_REUSED).
 */
export async function placeOrder(db: Db, client: Client, raw: PlaceOrderInput, options: PlaceOrderOptions = {}): Promise<PlacedOrder> {
  const parsed = PlaceOrderInputSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new OrderRefusedError('INVALID_INPUT', issue.message, issue.path.join('.'))
  }
  const input = parsed.data
  if (input.idempotencyKey) {
    const existing = await findByKey(db, input.userId, input.idempotencyKey)
    if (existing) return resumeOrder(client, existing, input)
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
  }

  let stored: { order: OrderRow; created: boolean }
  try {
    stored = await db.transaction(async (trx) => {
      // The wallet lock puts this user's placements in a line, behind each other and behind the debits of their
      // orders, so the checks below see every order placed before this one.
      const wallet: { confirmed: string; pending: string } | undefined = await trx('wallets').where({ userId: user.id }).forUpdate().first('confirmed', 'pending')
      if (!wallet) throw new OrderRefusedError('USER_NOT_FOUND', `User ${user.id} has no wallet`, 'userId')
      if (input.idempotencyKey) {
        // The same key may have been placed while this request waited for the lock.
        const existing = await findByKey(trx, user.id, input.idempotencyKey)
        if (existing) return { order: existing, created: false }
      }
      const balances = { confirmed: BigInt(wallet.confirmed), pending: BigInt(wallet.pending) }
      const usable = balances.confirmed + balances.pending
      if (user.role === 'agent' && usable < 0n) {
        throw new OrderRefusedError('NEGATIVE_CREDIT', `New orders are blocked while your credit is negative (${money(usable)}). Top up at least ${money(-usable)} first.`)
      }
      if (user.role === 'agent' && input.kind === 'new') {
        const agent = await trx('agents').where({ userId: user.id }).first('maxActiveAccounts')
        const max: number | null = agent?.maxActiveAccounts ?? null
        if (max !== null) {
          const activeRow = await trx('accounts').where({ userId: user.id, status: 'active' }).first(trx.raw('count(*)::int as "n"'))
          const inFlightRow = await trx('orders')
            .where({ userId: user.id, kind: 'new' })
            .whereIn('status', ['pending', 'awaiting_payment', 'provisioning'])
            .first(trx.raw('count(*)::int as "n"'))
          const count = Number(activeRow?.n ?? 0) + Number(inFlightRow?.n ?? 0)
          if (count >= max) {
            throw new OrderRefusedError('MAX_ACCOUNTS_REACHED', `You already have ${count} active accounts (or orders on the way), the most your reseller profile allows (${max})`)
          }
        }
      }
      if (input.payMethod === 'wallet') {
        const decision = decidePlacement(user.role, balances, await reservedCredit(trx, user.id), price)
        if (!decision.ok && decision.reason === 'INSUFFICIENT_CREDIT') {
          throw new OrderRefusedError(
            'INSUFFICIENT_CREDIT',
            `Not enough credit: this costs ${money(price)} but only ${money(decision.available)} is available. Top up or pay by receipt.`,
            undefined,
            { available: decision.available },
          )
        }
        if (!decision.ok) throw new OrderRefusedError('NEGATIVE_CREDIT', `New orders are blocked while your credit is negative (${money(decision.usable)}).`)
      }
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
      return { order: withId as OrderRow, created: true }
    })
  } catch (error) {
    // Two requests with the same key raced: the other one stored the order.
    if (input.idempotencyKey && (error as { code?: string }).code === '23505') {
      const existing = await findByKey(db, input.userId, input.idempotencyKey)
      if (existing) return resumeOrder(client, existing, input)
    }
    throw error
  }
  if (!stored.created) return resumeOrder(client, stored.order, input)
  const order = stored.order
  await options.afterCommit?.(order)
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
