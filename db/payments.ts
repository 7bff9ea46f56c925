import { randomUUID } from 'node:crypto'
import { WorkflowNotFoundError, type Client } from '@temporalio/client'
import { z } from 'zod'
import { MAX_ID } from '#domain/ids.ts'
import { formatMoney, InvalidAmountError, parsePositiveMoney, type Money } from '#domain/money.ts'
import { findTextProblem, multiLineText, TEXT_PROBLEM_MESSAGES } from '#domain/text.ts'
import {
  decidePaymentUpdate,
  PAYMENT_DECISION_REFUSED,
  paymentStatusQuery,
  type DecidePaymentInput,
  type PaymentDecided,
  type PaymentDecisionRefusal,
  type PaymentStatus as LivePaymentStatus,
} from '#temporal/messages.ts'
import { reportCreditChange, startPaymentWorkflow } from '#temporal/start.ts'
import { sendUpdate } from '#temporal/updates.ts'
import { paymentWorkflowId } from '#temporal/workflow-ids.ts'
import { adjustManual, type LedgerResult } from './ledger.ts'
import type { Db } from './knex.ts'
import { ReceiptError, storeReceipt as storeReceiptFile, type ReceiptStorageOptions, type StoredReceiptFile } from './receipts.ts'
import type { Payment, PaymentMethod, PaymentStatus } from './models.ts'

/**
 * Payments: submitting a receipt (`submitPayment`), deciding it (`decidePayment`), and the queries the payment
 * workflow's activities use. Per-method daily limits are enforced at submission under a lock on the method row,
 * so two submissions at once cannot both squeeze under a limit.
 */
export type PaymentRow = Payment

export type PaymentRefusalCode =
  | 'INVALID_INPUT'
  | 'USER_NOT_FOUND'
  | 'METHOD_NOT_FOUND'
  | 'METHOD_INACTIVE'
  | 'ORDER_NOT_PAYABLE'
  | 'AMOUNT_TOO_LOW'
  | 'DUPLICATE_RECEIPT'
  | 'DAILY_COUNT_LIMIT'
  | 'DAILY_AMOUNT_LIMIT'
  | 'RECEIPT_INVALID'
  | 'WORKFLOW_START_FAILED'

export class PaymentRefusedError extends Error {
  override name = 'PaymentRefusedError'
  constructor(
    readonly code: PaymentRefusalCode,
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

export type StoredReceipt = Pick<StoredReceiptFile, 'path' | 'sha256' | 'mime'>

/**
 * Checks and stores a receipt through db/receipts.ts (content-checked type, size cap, random name) and reports a
 * refusal as a `PaymentRefusedError` on the `receipt` field, like every other refusal of a payment submission.
 */
export async function storeReceipt(bytes: Buffer, options: ReceiptStorageOptions, declaredName = ''): Promise<StoredReceipt> {
  try {
    const { path, sha256, mime } = await storeReceiptFile(bytes, declaredName, options)
    return { path, sha256, mime }
  } catch (error) {
    if (error instanceof ReceiptError) throw new PaymentRefusedError('RECEIPT_INVALID', error.message, 'receipt')
    throw error
  }
}

export const SubmitPaymentInputSchema = z.object({
  userId: z.number().int().positive().max(MAX_ID),
  methodId: z.number().int().positive().max(MAX_ID),
  amount: z.union([z.string(), z.bigint(), z.number()]),
  orderId: z.number().int().positive().max(MAX_ID).nullish(),
  receipt: z.object({ path: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/), mime: z.string().min(1) }).nullish(),
  note: multiLineText({ min: 0, max: 500 }).nullish(),
})
export type SubmitPaymentInput = z.input<typeof SubmitPaymentInputSchema>

function money(amount: Money): string {
  return formatMoney(amount, { locale: 'en' })
}

/**
 * Records a payment (a receipt to review) and starts its `paymentApproval` workflow (`payment-<id>`), which adds
 * the amount to the payer's pending credit at once. A payment for an order must come from the order's buyer, for
 * an order paid by receipt, and cover its price.
 */
export async function submitPayment(db: Db, client: Client, raw: SubmitPaymentInput): Promise<{ payment: PaymentRow; workflowId: string }> {
  const parsed = SubmitPaymentInputSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new PaymentRefusedError('INVALID_INPUT', issue.message, issue.path.join('.'))
  }
  const input = parsed.data
  let amount: Money
  try {
    amount = parsePositiveMoney(input.amount as string | bigint | number, 'the amount')
  } catch (error) {
    if (error instanceof InvalidAmountError) throw new PaymentRefusedError('INVALID_INPUT', error.message, 'amount')
    throw error
  }
  const user = await db('users').where({ id: input.userId }).first('id', 'status')
  if (!user || user.status !== 'active') throw new PaymentRefusedError('USER_NOT_FOUND', `User ${input.userId} does not exist or is disabled`, 'userId')

  const payment = await db.transaction(async (trx) => {
    // The lock serialises submissions per method, so the daily limits hold under concurrency.
    const method: PaymentMethod | undefined = await trx('paymentMethods').where({ id: input.methodId }).forUpdate().first()
    if (!method) throw new PaymentRefusedError('METHOD_NOT_FOUND', `Payment method ${input.methodId} does not exist`, 'methodId')
    if (!method.active) throw new PaymentRefusedError('METHOD_INACTIVE', `The payment method "${method.titleEn}" is not accepting payments now`, 'methodId')

    if (input.orderId) {
      const order = await trx('orders').where({ id: input.orderId }).first('id', 'userId', 'payMethod', 'status', 'price')
      if (!order || order.userId !== input.userId) throw new PaymentRefusedError('ORDER_NOT_PAYABLE', `Order ${input.orderId} is not one of your orders`, 'orderId')
      if (order.payMethod === 'wallet' || !['pending', 'awaiting_payment'].includes(order.status)) {
        throw new PaymentRefusedError('ORDER_NOT_PAYABLE', `Order ${input.orderId} is not waiting for a payment (it is ${order.status})`, 'orderId')
      }
      if (amount < BigInt(order.price)) {
        throw new PaymentRefusedError('AMOUNT_TOO_LOW', `Order ${input.orderId} costs ${money(BigInt(order.price))}; the payment of ${money(amount)} does not cover it`, 'amount')
      }
      const open = await trx('payments').where({ orderId: input.orderId }).whereIn('status', ['PENDING', 'APPROVED']).first('id')
      if (open) throw new PaymentRefusedError('ORDER_NOT_PAYABLE', `Order ${input.orderId} already has payment #${open.id}`, 'orderId')
    }
    if (input.receipt) {
      const twin = await trx('payments').where({ receiptSha256: input.receipt.sha256 }).whereIn('status', ['PENDING', 'APPROVED']).first('id')
      if (twin) throw new PaymentRefusedError('DUPLICATE_RECEIPT', `This receipt was already submitted as payment #${twin.id}`, 'receipt')
    }
    const today = await trx('payments')
      .where({ methodId: method.id })
      .whereIn('status', ['PENDING', 'APPROVED'])
      .where('createdAt', '>=', trx.raw("date_trunc('day', now())"))
      .first(trx.raw('count(*)::int as "count"'), trx.raw('coalesce(sum(amount), 0)::text as "total"'))
    const count = Number(today?.count ?? 0)
    const total = BigInt(today?.total ?? '0')
    if (method.dailyCountLimit !== null && count + 1 > method.dailyCountLimit) {
      throw new PaymentRefusedError('DAILY_COUNT_LIMIT', `"${method.titleEn}" takes at most ${method.dailyCountLimit} payments a day; try another method or tomorrow`, 'methodId')
    }
    if (method.dailyAmountLimit !== null && total + amount > BigInt(method.dailyAmountLimit)) {
      const left = BigInt(method.dailyAmountLimit) - total
      throw new PaymentRefusedError(
        'DAILY_AMOUNT_LIMIT',
        `"${method.titleEn}" takes at most ${money(BigInt(method.dailyAmountLimit))} a day; ${money(left > 0n ? left : 0n)} is left today`,
        'amount',
      )
    }
    const [row] = await trx('payments')
      .insert({
        userId: input.userId,
        methodId: method.id,
        orderId: input.orderId ?? null,
        amount: amount.toString(),
        status: 'PENDING',
        receiptPath: input.receipt?.path ?? null,
        receiptSha256: input.receipt?.sha256 ?? null,
        receiptMime: input.receipt?.mime ?? null,
        note: input.note ?? null,
      })
      .returning('id')
    const [withId] = await trx('payments').where({ id: row.id }).update({ workflowId: paymentWorkflowId(row.id) }, '*')
    return withId as PaymentRow
  })
  try {
    const handle = await startPaymentWorkflow(client, payment.id)
    return { payment, workflowId: handle.workflowId }
  } catch (error) {
    // The workflow never ran, so no credit moved: remove the row rather than leave a payment nobody reviews.
    await db('payments').where({ id: payment.id, status: 'PENDING' }).delete()
    throw new PaymentRefusedError('WORKFLOW_START_FAILED', `The payment could not be submitted, please try again: ${error instanceof Error ? error.message : String(error)}`)
  }
}

export type DecidePaymentResult =
  /** The decision was taken and its ledger move is done. */
  | { ok: true; decided: PaymentDecided; message: string }
  /** The decision was taken; its ledger move had not finished when the wait ended. */
  | { ok: true; decided: null; message: string }
  | { ok: false; reason: PaymentDecisionRefusal['reason']; refusal: PaymentDecisionRefusal; message: string }
  /** `not_found`: no such payment workflow; `no_workflow`: it stopped without a decision; `no_answer`: no worker answered in time. */
  | { ok: false; reason: 'not_found' | 'no_workflow' | 'no_answer'; refusal: null; message: string }

/** The English sentence for a refusal (CLI output, logs); the web app and the bot word it in the reader's language. */
export function describeDecisionRefusal(refusal: PaymentDecisionRefusal): string {
  const id = refusal.paymentId
  if (refusal.reason === 'paid_online') return `Payment #${id} is paid online; it is confirmed by the gateway, not by an admin`
  if (refusal.reason === 'expired') return `Payment #${id} expired at ${refusal.expiredAt} without a decision; it can no longer be approved or rejected`
  const who = refusal.decidedBy === null ? 'the payment gateway' : `admin #${refusal.decidedBy}`
  return `Payment #${id} was already ${refusal.decision} by ${who}${refusal.decidedAt ? ` at ${refusal.decidedAt}` : ''}`
}

const refused = (refusal: PaymentDecisionRefusal): DecidePaymentResult => ({ ok: false, reason: refusal.reason, refusal, message: describeDecisionRefusal(refusal) })

/** What a payment whose workflow has closed says about a decision now. */
function closedRefusal(paymentId: number, live: LivePaymentStatus): PaymentDecisionRefusal | null {
  if (live.confirmedBy === 'gateway') return { reason: 'paid_online', paymentId }
  if (live.status === 'EXPIRED') return { reason: 'expired', paymentId, expiredAt: live.expiresAt }
  if (live.status === 'PENDING') return null
  const decision = live.status === 'APPROVED' ? 'approved' : 'rejected'
  return { reason: 'already_decided', paymentId, decision, decidedBy: live.decidedBy, decidedAt: live.decidedAt, note: live.note }
}

/**
 * An admin's decision on a payment, as `decidePaymentUpdate` on its workflow: the answer comes from the workflow
 * itself, within `waitMs`. The first decision wins; a second one (another admin at the same moment, a repeated
 * press), a decision after expiry and one on a payment made online are refused with who decided and when. A
 * payment whose workflow has closed is answered from the workflow's last status.
 */
export async function decidePayment(
  client: Client,
  paymentId: number,
  input: { decision: 'approve' | 'reject'; adminId: number; note?: string | null },
  options: { waitMs?: number } = {},
): Promise<DecidePaymentResult> {
  // The note reaches the ledger once the decision is taken; text it would refuse is refused before the update.
  const problem = input.note ? findTextProblem(input.note, 'multiLine') : null
  if (problem) throw new PaymentRefusedError('INVALID_INPUT', `The note ${TEXT_PROBLEM_MESSAGES[problem]}`, 'note')
  const waitMs = options.waitMs ?? 10_000
  const answer = await sendUpdate<PaymentDecided, DecidePaymentInput, PaymentDecisionRefusal>(
    client,
    paymentWorkflowId(paymentId),
    decidePaymentUpdate,
    { decision: input.decision, adminId: input.adminId, note: input.note ?? null },
    { refusalType: PAYMENT_DECISION_REFUSED, waitMs },
  )
  switch (answer.kind) {
    case 'done': {
      const d = answer.result
      return { ok: true, decided: d, message: `Payment #${paymentId} ${d.outcome}` }
    }
    case 'accepted':
      return { ok: true, decided: null, message: `Decision on payment #${paymentId} accepted; it is being applied` }
    case 'refused':
      return refused(answer.refusal)
    case 'no_answer':
      return {
        ok: false,
        reason: 'no_answer',
        refusal: null,
        message: `The workflow of payment #${paymentId} did not answer within ${Math.round(waitMs / 1000)} s, so the decision is not confirmed; look at the payment again before deciding again`,
      }
    case 'no_workflow':
      break
  }
  let live: LivePaymentStatus
  try {
    live = await client.workflow.getHandle(paymentWorkflowId(paymentId)).query(paymentStatusQuery)
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { ok: false, reason: 'not_found', refusal: null, message: `Payment #${paymentId} does not exist` }
    throw error
  }
  const refusal = closedRefusal(paymentId, live)
  if (refusal) return refused(refusal)
  return { ok: false, reason: 'no_workflow', refusal: null, message: `The workflow of payment #${paymentId} stopped before a decision; it can no longer be approved or rejected here` }
}

// ---- queries used by the payment workflow's activities -----------------------------------------------

export async function getPayment(db: Db, paymentId: number): Promise<PaymentRow | undefined> {
  return db('payments').where({ id: paymentId }).first()
}

/** Records the decision once: a payment that is no longer PENDING is left as it is. */
export async function recordPaymentDecision(
  db: Db,
  paymentId: number,
  decision: { status: Exclude<PaymentStatus, 'PENDING'>; decidedBy: number | null; note: string | null },
): Promise<void> {
  await db('payments')
    .where({ id: paymentId, status: 'PENDING' })
    .update({
      status: decision.status,
      decidedBy: decision.decidedBy,
      decidedAt: db.fn.now(),
      // The payer's note stays unless the admin wrote one.
      ...(decision.note ? { note: decision.note } : {}),
      updatedAt: db.fn.now(),
    })
}

/** The pending payment linked to an order, if any (an order waiting for its receipt). */
export async function pendingPaymentOfOrder(db: Db, orderId: number): Promise<PaymentRow | undefined> {
  return db('payments').where({ orderId, status: 'PENDING' }).orderBy('id', 'desc').first()
}

// ---- manual wallet adjustments -----------------------------------------------------------------------

/**
 * An admin's manual correction of a wallet (CHARGE_MANUAL), the path the CLI and the web app share. The credit watch
 * hears about it like any other change of an agent's credit: a top-up that brings the agent back to zero or above
 * re-enables what the 24-hour rule disabled; a deduction below zero starts the watch.
 */
export async function adjustWallet(
  db: Db,
  client: Client,
  input: { userId: number; amount: string | bigint; note: string; actorUserId: number; idempotencyKey?: string },
): Promise<LedgerResult> {
  const result = await adjustManual(db, {
    userId: input.userId,
    amount: input.amount,
    note: input.note,
    actorUserId: input.actorUserId,
    idempotencyKey: input.idempotencyKey ?? `manual:${randomUUID()}`,
  })
  if (result.usable < 0n || result.backToNonNegative) {
    const user = await db('users').where({ id: input.userId }).first('role')
    await reportCreditChange(client, { userId: input.userId, role: user?.role ?? 'customer', usable: result.usable, backToNonNegative: result.backToNonNegative })
  }
  return result
}
