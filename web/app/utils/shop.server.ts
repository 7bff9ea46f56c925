import { randomUUID } from 'node:crypto'
import type { AppLoadContext } from '@remix-run/node'
import { MaxPartSizeExceededError, unstable_createMemoryUploadHandler, unstable_parseMultipartFormData } from '@remix-run/node'
import type { Client } from '@temporalio/client'
import { z } from 'zod'
import { getWallet, type WalletView } from '#db/ledger.ts'
import { cancelOrder, OrderRefusedError, placeOrder, type PlaceOrderInput, type PlacedOrder } from '#db/orders.ts'
import { PaymentRefusedError, submitPayment } from '#db/payments.ts'
import { ReceiptError, storeReceipt } from '#db/receipts.ts'
import { previewRefund, RefundRefusedError, requestRefund } from '#db/accounts.ts'
import type { PaymentMethodKind } from '#db/models.ts'
import { getAccountOfUser, getOrderOfUser, getPaymentOfUser, listPaymentMethods, listPlansForBuyer } from '#db/shop.ts'
import { parseId } from '#domain/ids.ts'
import { creditWatchStatusQuery, type CreditWatchStatus } from '#temporal/messages.ts'
import { creditWatchWorkflowId } from '#temporal/workflow-ids.ts'
import type { Dictionary, Formatters } from '~/i18n/index.ts'
import { describeSize } from './body-limits.server.ts'
import { assertCsrf } from './csrf.server.ts'
import { f, parseForm, readForm } from './forms.server.ts'
import { findLive, lastStatusKey, loadSubject, readLiveStatus } from './live-status.server.ts'
import { qrDataUrl } from './qr.server.ts'
import { isTemporalDownError, TemporalUnavailableError } from './temporal.server.ts'

/**
 * What the agent and customer pages share: reading forms with a receipt file, placing orders and submitting
 * receipts through the services in db/, turning their refusals into messages for the page, and the 24-hour rule.
 */

/** A refusal to show next to a field (or above the form when `field` is `form`). */
export class ShopError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly code: string,
    readonly status = 400,
  ) {
    super(message)
  }
}

/** The Temporal client, or a ShopError saying the workflow service is away. */
export async function temporalClient(context: AppLoadContext, t: Dictionary): Promise<Client> {
  try {
    return await context.temporal.getClient()
  } catch (error) {
    if (error instanceof TemporalUnavailableError) {
      throw new ShopError('form', error.reason === 'not_configured' ? t.errors.temporalNotConfigured : t.errors.temporalUnavailable, 'TEMPORAL_UNAVAILABLE', 503)
    }
    throw error
  }
}

/** Runs a service call; an unreachable Temporal becomes a ShopError instead of an error page. */
export async function withWorkflowService<T>(t: Dictionary, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (!(error instanceof ShopError) && isTemporalDownError(error)) throw new ShopError('form', t.errors.temporalUnavailable, 'TEMPORAL_UNAVAILABLE', 503)
    throw error
  }
}

/**
 * Reads a form that may carry a receipt file (multipart) or not (urlencoded) and checks its CSRF token. A receipt
 * over RECEIPT_MAX_BYTES, or a body over the upload limit (which the web server then did not read, see
 * body-limits.server.ts), is a failure on the `receipt` field that names the limit, so the page shows the form again.
 */
export async function readUploadForm(request: Request, context: AppLoadContext, t: Dictionary, fmt: Formatters): Promise<FormOutcome<FormData>> {
  const maxBytes = context.env.RECEIPT_MAX_BYTES
  const tooLarge = (): FormOutcome<FormData> => ({ ok: false, errors: { receipt: t.shop.errors.receiptTooLarge(describeSize(maxBytes, fmt.number, t.units)) }, status: 413 })
  if (context.body.tooLarge) return tooLarge()
  const type = request.headers.get('Content-Type') ?? ''
  if (!type.startsWith('multipart/form-data')) return { ok: true, value: await readForm(request, context) }
  let form: FormData
  try {
    form = await unstable_parseMultipartFormData(request, unstable_createMemoryUploadHandler({ maxPartSize: maxBytes }))
  } catch (error) {
    // The web server stops a chunked body at the limit while it arrives: that, too, is a receipt too large.
    if (error instanceof MaxPartSizeExceededError || context.body.tooLarge) return tooLarge()
    // A body that is not multipart after all (no boundary, cut short) is the sender's mistake, not ours.
    throw new Response(t.errors.unreadableForm, { status: 400, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
  }
  assertCsrf(request, form, context.env)
  return { ok: true, value: form }
}

/** The uploaded receipt of a form, checked by content and stored; a ShopError on the `receipt` field otherwise. */
export async function storeUploadedReceipt(context: AppLoadContext, form: FormData, t: Dictionary) {
  const file = form.get('receipt')
  if (!file || typeof file === 'string' || file.size === 0) throw new ShopError('receipt', t.shop.errors.receiptRequired, 'RECEIPT_REQUIRED')
  try {
    const stored = await storeReceipt(Buffer.from(await file.arrayBuffer()), file.name, { uploadDir: context.env.UPLOAD_DIR, maxBytes: context.env.RECEIPT_MAX_BYTES })
    return { path: stored.path, sha256: stored.sha256, mime: stored.mime }
  } catch (error) {
    if (error instanceof ReceiptError) throw new ShopError('receipt', t.shop.errors.receiptInvalid, 'RECEIPT_INVALID')
    throw error
  }
}

/** A service refusal as a message for the page, in the visitor's language where we have the words. */
export function describeRefusal(error: OrderRefusedError | PaymentRefusedError | RefundRefusedError, t: Dictionary, wallet?: WalletView, fmt?: Formatters): ShopError {
  const e = t.shop.errors
  const field = 'field' in error && error.field ? error.field : 'form'
  switch (error.code) {
    case 'NEGATIVE_CREDIT':
      return new ShopError('form', wallet && fmt ? e.negativeCredit(fmt.money(wallet.usable), fmt.money(-wallet.usable)) : error.message, error.code, 409)
    case 'INSUFFICIENT_CREDIT':
      return new ShopError('form', wallet && fmt ? e.insufficientCredit(fmt.money('facts' in error && error.facts.available !== undefined ? error.facts.available : wallet.spendable)) : error.message, error.code, 409)
    case 'PLAN_NOT_FOUND':
    case 'PLAN_INACTIVE':
      return new ShopError('planId', e.planUnavailable, error.code)
    case 'LOCATION_REQUIRED':
    case 'LOCATION_NOT_ALLOWED':
      return new ShopError('locationId', e.locationNotAllowed, error.code)
    case 'MAX_ACCOUNTS_REACHED':
      return new ShopError('form', e.maxAccounts, error.code, 409)
    case 'IDEMPOTENCY_KEY_REUSED':
      return new ShopError('form', e.orderKeyReused, error.code, 409)
    case 'ACCOUNT_NOT_FOUND':
      return new ShopError('accountId', t.errors.notFound, error.code, 404)
    case 'DUPLICATE_RECEIPT':
      return new ShopError('receipt', t.payments.duplicateReceipt, error.code, 409)
    case 'DAILY_COUNT_LIMIT':
    case 'DAILY_AMOUNT_LIMIT':
      return new ShopError(field === 'form' ? 'methodId' : field, error.message, error.code, 409)
    case 'METHOD_NOT_FOUND':
    case 'METHOD_INACTIVE':
      return new ShopError('methodId', e.methodUnavailable, error.code)
    case 'RECEIPT_INVALID':
      return new ShopError('receipt', e.receiptInvalid, error.code)
    case 'NOT_ALLOWED':
      return new ShopError('form', error.message, error.code, 403)
    case 'ALREADY_DELETED':
      return new ShopError('form', e.alreadyDeleted, error.code, 409)
    case 'WORKFLOW_START_FAILED':
      return new ShopError('form', t.errors.temporalUnavailable, error.code, 503)
    default:
      return new ShopError(field, error.message, error.code)
  }
}

/** Places an order through the shared service; refusals come back as ShopErrors with the visitor's words. */
export async function placeOrderForUser(context: AppLoadContext, input: PlaceOrderInput, t: Dictionary, fmt: Formatters): Promise<PlacedOrder> {
  const client = await temporalClient(context, t)
  try {
    return await withWorkflowService(t, () => placeOrder(context.db, client, input))
  } catch (error) {
    if (error instanceof OrderRefusedError) throw describeRefusal(error, t, await getWallet(context.db, input.userId), fmt)
    throw error
  }
}

/** Submits a receipt (a top-up when `orderId` is null): the amount is pending credit at once. */
export async function submitReceiptForUser(
  context: AppLoadContext,
  input: { userId: number; methodId: number; amount: bigint; orderId: number | null; receipt: { path: string; sha256: string; mime: string } | null; note?: string | null },
  t: Dictionary,
): Promise<{ paymentId: number; workflowId: string }> {
  const client = await temporalClient(context, t)
  try {
    const { payment, workflowId } = await withWorkflowService(t, () =>
      submitPayment(context.db, client, {
        userId: input.userId,
        methodId: input.methodId,
        amount: input.amount.toString(),
        orderId: input.orderId,
        receipt: input.receipt,
        note: input.note ?? null,
      }),
    )
    return { paymentId: payment.id, workflowId }
  } catch (error) {
    if (error instanceof PaymentRefusedError) throw describeRefusal(error, t)
    throw error
  }
}

/** Records a gateway payment for an order (no receipt: the gateway's verification decides it). */
export function submitGatewayPayment(context: AppLoadContext, input: { userId: number; methodId: number; amount: bigint; orderId: number }, t: Dictionary) {
  return submitReceiptForUser(context, { ...input, receipt: null }, t)
}

export interface CreditRule {
  /** When the 24-hour rule disables the agent's accounts; null when credit is not negative. */
  firesAt: string | null
  /** The rule already ran: these accounts are disabled until credit is back at zero or above. */
  disabledCount: number
  phase: CreditWatchStatus['phase'] | 'none'
}

/**
 * The 24-hour rule as the agent sees it: the credit watch's own deadline (asked, or as last published), else
 * the wallet's `negative_since` plus the grace period.
 */
export async function creditRuleFor(context: AppLoadContext, wallet: WalletView): Promise<CreditRule> {
  if (wallet.usable >= 0n) return { firesAt: null, disabledCount: 0, phase: 'none' }
  const workflowId = creditWatchWorkflowId(wallet.userId)
  let watch: CreditWatchStatus | undefined
  try {
    const client = await context.temporal.getClient()
    watch = await client.withDeadline(new Date(Date.now() + 2000), () => client.workflow.getHandle(workflowId).query(creditWatchStatusQuery))
  } catch {
    try {
      const json = await context.redis.get(lastStatusKey(context.env, workflowId))
      const parsed = json ? (JSON.parse(json) as CreditWatchStatus) : undefined
      if (parsed && parsed.agentUserId === wallet.userId) watch = parsed
    } catch {
      watch = undefined
    }
  }
  const fallback = wallet.negativeSince ? new Date(new Date(wallet.negativeSince).getTime() + context.env.NEGATIVE_CREDIT_GRACE).toISOString() : null
  if (watch && (watch.phase === 'watching' || watch.phase === 'disabled')) {
    return { firesAt: watch.deadline ?? fallback, disabledCount: watch.disabledAccountIds.length, phase: watch.phase }
  }
  return { firesAt: fallback, disabledCount: 0, phase: 'watching' }
}

const TopUpSchema = z.object({ methodId: f.id(), amount: f.money('positive'), note: f.optionalText(500) })

export const RECEIPT_KINDS: PaymentMethodKind[] = ['CARD', 'SHEBA', 'CRYPTO']

export type FormOutcome<T> = { ok: true; value: T } | { ok: false; errors: Record<string, string>; status: number }

/** Turns a ShopError into the field errors of a form. */
export function formFailure(error: unknown): { ok: false; errors: Record<string, string>; status: number } {
  if (error instanceof ShopError) return { ok: false, errors: { [error.field]: error.message }, status: error.status }
  throw error
}

/**
 * A top-up by receipt from a form (`methodId`, `amount`, `receipt` file, optional `note`): the method must be a
 * manual one that is on, the receipt a real image or PDF. The amount is pending credit as soon as this returns.
 */
export async function topUpFromForm(context: AppLoadContext, userId: number, form: FormData, t: Dictionary): Promise<FormOutcome<{ paymentId: number }>> {
  const parsed = parseForm(TopUpSchema, form, t)
  if (!parsed.ok) return { ok: false, errors: parsed.errors, status: 400 }
  const methods = await listPaymentMethods(context.db, RECEIPT_KINDS)
  if (!methods.some((m) => m.id === parsed.data.methodId)) return { ok: false, errors: { methodId: t.shop.errors.methodUnavailable }, status: 400 }
  try {
    const receipt = await storeUploadedReceipt(context, form, t)
    const { paymentId } = await submitReceiptForUser(
      context,
      { userId, methodId: parsed.data.methodId, amount: parsed.data.amount, orderId: null, receipt, note: parsed.data.note },
      t,
    )
    return { ok: true, value: { paymentId } }
  } catch (error) {
    return formFailure(error)
  }
}

/** A payment of the user with its live state, for the payment pages; 404 for anyone else's. */
export async function paymentPage(context: AppLoadContext, userId: number, rawId: string | undefined) {
  const id = positiveId(rawId)
  const payment = await getPaymentOfUser(context.db, userId, id)
  const subject = payment ? await loadSubject(context.db, 'payment', id) : undefined
  if (!payment || !subject) throw new Response('Not found', { status: 404 })
  return { payment, status: await readLiveStatus(context, subject) }
}

/** An order of the user with its live state, for the order pages; 404 for anyone else's. */
export async function orderPage(context: AppLoadContext, userId: number, rawId: string | undefined) {
  const id = positiveId(rawId)
  const order = await getOrderOfUser(context.db, userId, id)
  const subject = order ? await loadSubject(context.db, 'order', id) : undefined
  if (!order || !subject) throw new Response('Not found', { status: 404 })
  const status = await readLiveStatus(context, subject)
  const payment = status.paymentId ? await getPaymentOfUser(context.db, userId, status.paymentId) : undefined
  const url = status.subscriptionUrl
  return { order, status, payment: payment ?? null, qr: url ? await qrDataUrl(url) : null }
}

/** A route param that must be a positive integer id; 404 otherwise. */
/** A row id from a path or a form (digits, 1 to 2147483647; see domain/ids.ts); 404 otherwise. */
export function positiveId(value: string | undefined): number {
  const id = parseId(value)
  if (id === null) throw new Response('Not found', { status: 404 })
  return id
}

/**
 * An account of the user for the account pages: its QR code, the plans it can be renewed with (those sold in
 * its location) and, once a refund was asked for, the refund's live state. 404 for anyone else's.
 */
export async function accountPage(context: AppLoadContext, userId: number, rawId: string | undefined) {
  const id = positiveId(rawId)
  const account = await getAccountOfUser(context.db, userId, id)
  if (!account) throw new Response('Not found', { status: 404 })
  const plans = (await listPlansForBuyer(context.db, userId)).filter((p) => p.locations.some((l) => l.id === account.locationId))
  const refundSubject = await loadSubject(context.db, 'refund', id)
  const refund = refundSubject?.stored.final ? refundSubject.stored : ((await findLive(context, 'refund', id)) ?? null)
  return {
    account,
    qr: account.subscriptionUrl && account.status !== 'deleted' ? await qrDataUrl(account.subscriptionUrl) : null,
    plans,
    refund,
    renewKey: randomUUID(),
  }
}

const RenewSchema = z.object({ planId: f.id(), orderKey: z.string({ required_error: 'required' }).uuid('invalid') })

/** Renews (extends) an account with a plan from a form; the new order's id, or the form's errors. */
export async function renewFromForm(
  context: AppLoadContext,
  userId: number,
  accountId: number,
  form: FormData,
  options: { payMethod: 'wallet' | 'receipt' | 'zarinpal'; t: Dictionary; fmt: Formatters },
): Promise<FormOutcome<PlacedOrder>> {
  const parsed = parseForm(RenewSchema, form, options.t)
  if (!parsed.ok) return { ok: false, errors: parsed.errors, status: 400 }
  try {
    const placed = await placeOrderForUser(
      context,
      { userId, planId: parsed.data.planId, kind: 'renew', accountId, payMethod: options.payMethod, idempotencyKey: `web:${parsed.data.orderKey}` },
      options.t,
      options.fmt,
    )
    return { ok: true, value: placed }
  } catch (error) {
    return formFailure(error)
  }
}

export interface RefundPreview {
  allowed: boolean
  /** Why deleting is not possible, when it is not. */
  refusal: string | null
  amount: string
  paid: string
  rule: string
  usedTimeBps: number
  usedTrafficBps: number
  panelAction: 'delete' | 'disable'
}

/** The refund a deletion would pay now, as shown before confirming; a refusal (not allowed, already deleted) is data, not an error. */
export async function refundPreview(context: AppLoadContext, userId: number, accountId: number, t: Dictionary): Promise<RefundPreview> {
  try {
    const q = await previewRefund(context.db, { accountId, requestedBy: userId })
    return {
      allowed: true,
      refusal: null,
      amount: q.quote.amount.toString(),
      paid: q.paid.toString(),
      rule: q.quote.rule,
      usedTimeBps: q.quote.usedTimeBps,
      usedTrafficBps: q.quote.usedTrafficBps,
      panelAction: q.panelAction,
    }
  } catch (error) {
    if (!(error instanceof RefundRefusedError)) throw error
    return { allowed: false, refusal: describeRefusal(error, t).message, amount: '0', paid: '0', rule: 'nothing_paid', usedTimeBps: 0, usedTrafficBps: 0, panelAction: 'delete' }
  }
}

const DeleteSchema = z.object({ reason: f.text(300, 'singleLine'), confirm: z.literal('yes', { errorMap: () => ({ message: 'required' }) }) })

/** Deletes an account for a refund from a confirmed form: starts (or finds) the refund workflow `refund-<accountId>`. */
export async function deleteFromForm(context: AppLoadContext, userId: number, accountId: number, form: FormData, t: Dictionary): Promise<FormOutcome<{ workflowId: string; amount: string }>> {
  const parsed = parseForm(DeleteSchema, form, t)
  if (!parsed.ok) return { ok: false, errors: parsed.errors, status: 400 }
  try {
    const client = await temporalClient(context, t)
    const { quote, workflowId } = await withWorkflowService(t, () => requestRefund(context.db, client, { accountId, requestedBy: userId, reason: parsed.data.reason }))
    return { ok: true, value: { workflowId, amount: quote.quote.amount.toString() } }
  } catch (error) {
    if (error instanceof RefundRefusedError) return formFailure(describeRefusal(error, t))
    return formFailure(error)
  }
}

/** Asks a just-placed order to stop because its payment could not be recorded; nothing was charged. */
export async function abandonOrder(context: AppLoadContext, orderId: number, userId: number, reason: string): Promise<void> {
  try {
    const client = await context.temporal.getClient()
    // The answer is not shown, so the page waits only briefly for it.
    await cancelOrder(context.db, client, orderId, { reason, actorUserId: userId }, { waitMs: 3_000 })
  } catch {
    // The order then fails by itself when no payment arrives in time; it has charged nothing either way.
  }
}
