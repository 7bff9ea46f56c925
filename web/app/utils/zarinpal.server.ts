import type { AppLoadContext } from '@remix-run/node'
import { WorkflowNotFoundError } from '@temporalio/client'
import { z } from 'zod'
import type { Env } from '#config/env.ts'
import type { Db } from '#db/knex.ts'
import type { PaymentMethod } from '#db/models.ts'
import { gatewayVerifiedSignal } from '#temporal/messages.ts'
import { paymentWorkflowId } from '#temporal/workflow-ids.ts'
import type { Dictionary } from '~/i18n/index.ts'
import { ShopError, submitGatewayPayment, temporalClient } from './shop.server.ts'

/**
 * Zarinpal, the online gateway (REST API v4): `request.json` gives an authority, the payer pays on
 * `StartPay/<authority>`, Zarinpal sends the browser back to our callback with `Authority` and `Status`, and
 * `verify.json` — server to server, with the amount we stored — settles it. Only a verification answered with
 * code 100 (or 101, "verified before") signals the payment workflow, so a forged or replayed callback changes nothing.
 */

export interface ZarinpalConfig {
  apiRoot: string
  merchantId: string
  /** IRT (Toman) or IRR (Rial): the unit of our amounts. */
  currency: 'IRT' | 'IRR'
  timeoutMs: number
}

/** The gateway could not be asked (network, timeout, a 5xx or a body that is not its JSON). */
export class ZarinpalUnavailableError extends Error {
  override name = 'ZarinpalUnavailableError'
}

const RequestOkSchema = z.object({ data: z.object({ code: z.literal(100), authority: z.string().min(1).max(64) }) })
const VerifyOkSchema = z.object({
  data: z.object({ code: z.union([z.literal(100), z.literal(101)]), ref_id: z.union([z.number(), z.string()]), card_pan: z.string().nullish() }),
})
const ErrorSchema = z.object({ errors: z.object({ code: z.number(), message: z.string().optional() }) })

/** What Zarinpal's error codes mean, for logs and the payer's page. */
export const ZARINPAL_ERRORS: Record<number, string> = {
  [-9]: 'validation error',
  [-10]: 'terminal or merchant id is not valid',
  [-11]: 'merchant is not active',
  [-12]: 'too many attempts',
  [-15]: 'merchant is suspended',
  [-50]: 'the amount differs from the amount of the payment session',
  [-51]: 'the payment was not made (session not active)',
  [-52]: 'unexpected gateway error',
  [-53]: 'the authority does not belong to this merchant',
  [-54]: 'the authority is not valid',
  [-55]: 'the request was manipulated',
}

async function post(config: ZarinpalConfig, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  let response: Response
  try {
    response = await fetch(new URL(path, config.apiRoot), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(config.timeoutMs),
    })
  } catch (error) {
    throw new ZarinpalUnavailableError(`Zarinpal at ${new URL(config.apiRoot).host} did not answer: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  const text = await response.text()
  if (response.status >= 500) throw new ZarinpalUnavailableError(`Zarinpal answered HTTP ${response.status}`)
  try {
    return { status: response.status, json: JSON.parse(text) as unknown }
  } catch {
    throw new ZarinpalUnavailableError(`Zarinpal answered HTTP ${response.status} with a body that is not JSON`)
  }
}

/** Asks for a payment session; returns its authority, or throws ZarinpalUnavailableError / a refusal with the gateway's code. */
export async function zarinpalRequest(
  config: ZarinpalConfig,
  input: { amount: bigint; description: string; callbackUrl: string; orderId?: number | null },
): Promise<{ authority: string }> {
  const { json } = await post(config, '/pg/v4/payment/request.json', {
    merchant_id: config.merchantId,
    amount: Number(input.amount),
    currency: config.currency,
    description: input.description,
    callback_url: input.callbackUrl,
    metadata: input.orderId ? { order_id: String(input.orderId) } : {},
  })
  const ok = RequestOkSchema.safeParse(json)
  if (ok.success) return { authority: ok.data.data.authority }
  const refused = ErrorSchema.safeParse(json)
  if (refused.success) {
    const code = refused.data.errors.code
    throw new ZarinpalRefusedError(code, `Zarinpal refused the payment request: ${ZARINPAL_ERRORS[code] ?? refused.data.errors.message ?? 'unknown error'} (code ${code})`)
  }
  throw new ZarinpalUnavailableError('Zarinpal answered the payment request with an unexpected body')
}

export class ZarinpalRefusedError extends Error {
  override name = 'ZarinpalRefusedError'
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

export type VerifyResult = { ok: true; code: 100 | 101; refId: string; cardPan: string | null } | { ok: false; code: number; message: string }

/** Verifies a session with the amount we expect. 100: paid and verified now; 101: verified before. */
export async function zarinpalVerify(config: ZarinpalConfig, input: { amount: bigint; authority: string }): Promise<VerifyResult> {
  const { json } = await post(config, '/pg/v4/payment/verify.json', { merchant_id: config.merchantId, amount: Number(input.amount), authority: input.authority })
  const ok = VerifyOkSchema.safeParse(json)
  if (ok.success) return { ok: true, code: ok.data.data.code, refId: String(ok.data.data.ref_id), cardPan: ok.data.data.card_pan ?? null }
  const refused = ErrorSchema.safeParse(json)
  if (refused.success) {
    const code = refused.data.errors.code
    return { ok: false, code, message: ZARINPAL_ERRORS[code] ?? refused.data.errors.message ?? 'unknown error' }
  }
  throw new ZarinpalUnavailableError('Zarinpal answered the verification with an unexpected body')
}

export function startPayUrl(config: ZarinpalConfig, authority: string): string {
  return new URL(`/pg/StartPay/${encodeURIComponent(authority)}`, config.apiRoot).toString()
}

/** The active Zarinpal payment method and its configuration; null when Zarinpal is off or has no merchant id. */
export async function zarinpalMethod(db: Db, env: Env): Promise<{ method: PaymentMethod; config: ZarinpalConfig } | null> {
  const method: PaymentMethod | undefined = await db('paymentMethods').where({ kind: 'ZARINPAL', active: true }).orderBy('id').first()
  if (!method) return null
  const fromMethod = typeof method.config?.merchantId === 'string' ? method.config.merchantId.trim() : ''
  const merchantId = fromMethod || env.ZARINPAL_MERCHANT_ID
  if (!merchantId) return null
  return { method, config: { apiRoot: env.ZARINPAL_API_ROOT, merchantId, currency: env.CURRENCY === 'IRR' ? 'IRR' : 'IRT', timeoutMs: 15_000 } }
}

export const callbackUrl = (env: Env) => new URL('/zarinpal/callback', env.PUBLIC_URL).toString()

/**
 * Sends the buyer to Zarinpal to pay for an order that waits for its gateway payment. The first time, the
 * payment is recorded (its workflow starts); a retry reuses it with a fresh session. Returns the StartPay URL.
 */
export async function startGatewayPayment(context: AppLoadContext, input: { userId: number; orderId: number; t: Dictionary }): Promise<string> {
  const { db, env } = context
  const { t } = input
  const zarinpal = await zarinpalMethod(db, env)
  if (!zarinpal) throw new ShopError('payMethod', t.shop.errors.gatewayOff, 'GATEWAY_OFF', 409)
  const order = await db('orders').where({ id: input.orderId, userId: input.userId }).first('id', 'price', 'payMethod', 'status')
  if (!order || order.payMethod !== 'zarinpal') throw new Response('Not found', { status: 404 })
  if (!['pending', 'awaiting_payment'].includes(order.status)) throw new ShopError('form', t.shop.errors.orderNotPayable, 'ORDER_NOT_PAYABLE', 409)
  const existing = await db('payments').where({ orderId: order.id, status: 'PENDING' }).orderBy('id', 'desc').first('id', 'amount')
  const amount = BigInt(existing?.amount ?? order.price)

  let authority: string
  try {
    ;({ authority } = await zarinpalRequest(zarinpal.config, { amount, description: `flowpanel order #${order.id}`, callbackUrl: callbackUrl(env), orderId: order.id }))
  } catch (error) {
    if (error instanceof ZarinpalUnavailableError || error instanceof ZarinpalRefusedError) throw new ShopError('form', t.shop.errors.gatewayDown, 'GATEWAY_UNAVAILABLE', 502)
    throw error
  }
  // The session exists at Zarinpal before anything is stored here: if storing fails, an unused session is all that is left.
  const paymentId = existing?.id ?? (await submitGatewayPayment(context, { userId: input.userId, methodId: zarinpal.method.id, amount, orderId: order.id }, t)).paymentId
  await db('gatewayRequests').insert({ paymentId, gateway: 'zarinpal', authority, amount: amount.toString() })
  return startPayUrl(zarinpal.config, authority)
}

export type CallbackOutcome =
  | { kind: 'unknown' }
  | { kind: 'cancelled' | 'failed' | 'verified' | 'unavailable' | 'closed' | 'late'; paymentId: number; orderId: number | null; userId: number; refId?: string; code?: number }

const AUTHORITY_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

/**
 * The callback: an unknown authority changes nothing; `Status` other than OK marks the session cancelled; otherwise
 * the session is verified with Zarinpal for the amount stored with it, and only a verified payment signals the
 * payment workflow (`gatewayVerified`), which credits the payer. Safe to replay: a second verification answers 101
 * and the workflow takes the first signal only. Money the gateway took for a payment that has closed meanwhile (it
 * expired, or another session paid it) is not credited automatically: it is recorded on the payment and the session,
 * logged for support, and the payer is told to contact support (`late`).
 */
export async function handleGatewayCallback(context: AppLoadContext, input: { authority: string | null; status: string | null; t: Dictionary }): Promise<CallbackOutcome> {
  const { db, env } = context
  if (!input.authority || !AUTHORITY_PATTERN.test(input.authority)) return { kind: 'unknown' }
  const request = await db('gatewayRequests as g')
    .join('payments as p', 'p.id', 'g.paymentId')
    .where('g.authority', input.authority)
    .first('g.id', 'g.paymentId', 'g.amount', 'g.status', 'p.userId', 'p.orderId', 'p.amount as paymentAmount', 'p.status as paymentStatus')
  if (!request) return { kind: 'unknown' }
  const base = { paymentId: request.paymentId as number, orderId: request.orderId as number | null, userId: request.userId as number }

  if (input.status !== 'OK') {
    await db('gatewayRequests').where({ id: request.id, status: 'requested' }).update({ status: 'cancelled' })
    return { kind: 'cancelled', ...base }
  }
  if (request.paymentStatus !== 'PENDING') return { kind: 'closed', ...base }

  const zarinpal = await zarinpalMethod(db, env)
  if (!zarinpal) return { kind: 'unavailable', ...base }
  const amount = BigInt(request.amount)
  let result: VerifyResult
  try {
    result = await zarinpalVerify(zarinpal.config, { amount, authority: input.authority })
  } catch (error) {
    if (error instanceof ZarinpalUnavailableError) return { kind: 'unavailable', ...base }
    throw error
  }
  if (!result.ok) {
    await db('gatewayRequests').where({ id: request.id }).whereNot({ status: 'verified' }).update({ status: 'failed', resultCode: result.code })
    return { kind: 'failed', ...base, code: result.code }
  }
  // The payment is what the order costs; a session for any other amount never approves it.
  if (amount !== BigInt(request.paymentAmount)) return { kind: 'failed', ...base, code: -50 }

  // Under a lock on the payment row, which the payment workflow also takes to settle: the verification is stored on
  // a payment that is still open (and so is credited, by the signal or by the settling step reading it), or it finds
  // the payment closed and is recorded for support.
  const recorded = await db.transaction(async (trx) => {
    const payment = await trx('payments').where({ id: request.paymentId }).forUpdate().first('status', 'gatewayRefId', 'note')
    await trx('gatewayRequests')
      .where({ id: request.id })
      .whereNot({ status: 'verified' })
      .update({ status: 'verified', refId: result.refId, cardPan: result.cardPan, resultCode: result.code, verifiedAt: trx.fn.now() })
    if (payment.gatewayRefId === result.refId) return payment.status === 'PENDING' ? 'open' : 'settled'
    if (payment.status === 'PENDING' && payment.gatewayRefId === null) {
      await trx('payments').where({ id: request.paymentId }).update({ gatewayAuthority: input.authority, gatewayRefId: result.refId, updatedAt: trx.fn.now() })
      return 'open'
    }
    const fact = unmatchedFact(input.authority!, result.refId, amount, payment)
    await trx('payments').where({ id: request.paymentId }).update({ note: payment.note ? `${payment.note}\n${fact}` : fact, updatedAt: trx.fn.now() })
    return 'late'
  })
  if (recorded === 'settled') return { kind: 'closed', ...base, refId: result.refId }
  if (recorded === 'late') {
    console.error(`Zarinpal payment not credited, needs support: payment #${request.paymentId}, authority ${input.authority}, ref ${result.refId}, amount ${amount}`)
    return { kind: 'late', ...base, refId: result.refId }
  }
  const client = await temporalClient(context, input.t)
  try {
    await client.workflow.getHandle(paymentWorkflowId(request.paymentId)).signal(gatewayVerifiedSignal, { authority: input.authority!, refId: result.refId, amount: amount.toString() })
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error
    // The workflow settled meanwhile; it read the verification stored above, unless it was ended by hand.
    const now = await db('payments').where({ id: request.paymentId }).first('status')
    if (now?.status === 'APPROVED') return { kind: 'closed', ...base, refId: result.refId }
    console.error(`Zarinpal payment not credited, needs support: payment #${request.paymentId} (${now?.status}) has no workflow; authority ${input.authority}, ref ${result.refId}, amount ${amount}`)
    return { kind: 'late', ...base, refId: result.refId }
  }
  return { kind: 'verified', ...base, refId: result.refId }
}

/** The note kept on a payment when the gateway took money it does not credit. */
function unmatchedFact(authority: string, refId: string, amount: bigint, payment: { status: string; gatewayRefId: string | null }): string {
  const why = payment.gatewayRefId ? `the payment was already paid with ref ${payment.gatewayRefId}` : `the payment had closed (${payment.status})`
  return `Zarinpal took ${amount} (authority ${authority}, ref ${refId}) after ${why}; not credited: credit or refund it by hand`
}
