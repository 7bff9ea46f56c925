/**
 * A fake Zarinpal payment gateway (REST API v4) on 127.0.0.1, for tests and local runs:
 *
 *   POST /pg/v4/payment/request.json   { merchant_id, amount, currency?, description, callback_url, metadata? }
 *        → 200 { data: { code: 100, message: 'Success', authority, fee_type, fee }, errors: [] }
 *        → 400 { data: [], errors: { code: -9 | -10 | -11, message, validations? } }
 *   GET  /pg/StartPay/<authority>       the payment page: "Pay" and "Cancel" links
 *   GET  /pg/StartPay/<authority>/pay   marks the session paid and sends the browser to callback_url?Authority=…&Status=OK
 *   GET  /pg/StartPay/<authority>/cancel  sends the browser to callback_url?Authority=…&Status=NOK
 *   POST /pg/v4/payment/verify.json    { merchant_id, amount, authority }
 *        → 200 { data: { code: 100, message: 'Verified', ref_id, card_pan, card_hash, fee_type, fee }, errors: [] }
 *        → 200 { data: { code: 101, message: 'Verified', … } }   (verified before)
 *        → 400 { data: [], errors: { code, message } } with -50 amount differs, -51 not paid, -53 other merchant,
 *          -54 unknown authority, -9 validation
 *
 *   const zp = await startFakeZarinpal({ merchantId: 'm' })
 *   zp.url / zp.pay(authority, { amount? }) / zp.session(authority) / zp.counts / knobs of tests/fakes/http.ts
 *
 * Standalone: `tsx tests/fakes/zarinpal.ts --port 8010 --merchant <id>`.
 */
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { cliFlag, json, startFakeHttp, type FakeHttpServer, type FakeRequest, type FakeResponse } from './http.ts'

export interface FakeZarinpalSession {
  authority: string
  merchantId: string
  amount: number
  currency: string
  callbackUrl: string
  description: string
  /** What the payer actually paid; undefined until paid. */
  paidAmount: number | undefined
  refId: number | undefined
  verified: boolean
}

export interface FakeZarinpalOptions {
  port?: number
  latencyMs?: number
  /** Merchant ids the fake accepts (default: one, `00000000-0000-0000-0000-000000000000`). */
  merchantIds?: string[]
  /** Smallest amount accepted (default 1000). */
  minAmount?: number
}

export interface FakeZarinpal extends FakeHttpServer {
  readonly sessions: Map<string, FakeZarinpalSession>
  readonly counts: { request: number; verify: number; verified: number }
  session(authority: string): FakeZarinpalSession | undefined
  /** The payer pays on the gateway page; `amount` simulates a payment of another sum than requested. */
  pay(authority: string, options?: { amount?: number }): void
}

const fail = (code: number, message: string, validations?: unknown): FakeResponse => json(400, { data: [], errors: { code, message, ...(validations ? { validations } : {}) } })

export async function startFakeZarinpal(options: FakeZarinpalOptions = {}): Promise<FakeZarinpal> {
  const merchants = new Set(options.merchantIds ?? ['00000000-0000-0000-0000-000000000000'])
  const minAmount = options.minAmount ?? 1000
  const sessions = new Map<string, FakeZarinpalSession>()
  const counts = { request: 0, verify: 0, verified: 0 }
  let nextRef = 100_000

  const pay = (authority: string, opts: { amount?: number } = {}) => {
    const s = sessions.get(authority)
    if (!s) throw new Error(`fake Zarinpal: no session ${authority}`)
    s.paidAmount = opts.amount ?? s.amount
  }

  const parseBody = (req: FakeRequest): Record<string, unknown> | undefined => {
    try {
      const value = JSON.parse(req.body) as unknown
      return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
    } catch {
      return undefined
    }
  }

  const handle = (req: FakeRequest): FakeResponse => {
    if (req.method === 'POST' && req.path === '/pg/v4/payment/request.json') {
      counts.request++
      const body = parseBody(req)
      if (!body) return fail(-9, 'The input params invalid, validation error.')
      const validations: Record<string, string>[] = []
      if (typeof body.merchant_id !== 'string') validations.push({ merchant_id: 'The merchant id field is required.' })
      if (typeof body.amount !== 'number' || !Number.isInteger(body.amount)) validations.push({ amount: 'The amount must be an integer.' })
      else if (body.amount < minAmount) validations.push({ amount: `The amount must be at least ${minAmount}.` })
      if (typeof body.callback_url !== 'string' || !/^https?:\/\//.test(body.callback_url)) validations.push({ callback_url: 'The callback url format is invalid.' })
      if (typeof body.description !== 'string' || body.description === '') validations.push({ description: 'The description field is required.' })
      if (body.currency !== undefined && body.currency !== 'IRR' && body.currency !== 'IRT') validations.push({ currency: 'The selected currency is invalid.' })
      if (validations.length > 0) return fail(-9, 'The input params invalid, validation error.', validations)
      if (!merchants.has(body.merchant_id as string)) return fail(-10, 'Terminal is not valid, please check merchant_id or ip address.')
      const authority = `A${randomBytes(18).toString('hex').slice(0, 35).toUpperCase()}`
      sessions.set(authority, {
        authority,
        merchantId: body.merchant_id as string,
        amount: body.amount as number,
        currency: (body.currency as string | undefined) ?? 'IRR',
        callbackUrl: body.callback_url as string,
        description: body.description as string,
        paidAmount: undefined,
        refId: undefined,
        verified: false,
      })
      return json(200, { data: { code: 100, message: 'Success', authority, fee_type: 'Merchant', fee: 0 }, errors: [] })
    }

    if (req.method === 'POST' && req.path === '/pg/v4/payment/verify.json') {
      counts.verify++
      const body = parseBody(req)
      if (!body || typeof body.merchant_id !== 'string' || typeof body.authority !== 'string' || typeof body.amount !== 'number') {
        return fail(-9, 'The input params invalid, validation error.')
      }
      const s = sessions.get(body.authority)
      if (!s) return fail(-54, 'Invalid authority.')
      if (s.merchantId !== body.merchant_id) return fail(-53, 'Session is not this merchant_id session.')
      if (body.amount !== s.amount || (s.paidAmount !== undefined && s.paidAmount !== s.amount)) return fail(-50, 'Session is not valid, amounts values is not the same.')
      if (s.paidAmount === undefined) return fail(-51, 'Session is not valid, session is not active paid try.')
      const first = !s.verified
      if (first) {
        s.verified = true
        s.refId = nextRef++
        counts.verified++
      }
      return json(200, {
        data: { code: first ? 100 : 101, message: 'Verified', card_hash: 'F'.repeat(64), card_pan: '502229******5995', ref_id: s.refId, fee_type: 'Merchant', fee: 0 },
        errors: [],
      })
    }

    const page = /^\/pg\/StartPay\/([A-Za-z0-9]+)(\/pay|\/cancel)?$/.exec(req.path)
    if (req.method === 'GET' && page) {
      const s = sessions.get(page[1]!)
      if (!s) return { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<h1>Payment session not found</h1>' }
      const back = (status: 'OK' | 'NOK') => {
        const url = new URL(s.callbackUrl)
        url.searchParams.set('Authority', s.authority)
        url.searchParams.set('Status', status)
        return { status: 302, headers: { location: url.toString() } }
      }
      if (page[2] === '/pay') {
        s.paidAmount ??= s.amount
        return back('OK')
      }
      if (page[2] === '/cancel') return back('NOK')
      return {
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: `<!doctype html><title>Zarinpal</title><h1>${s.description}</h1><p data-amount="${s.amount}">${s.amount} ${s.currency}</p><a id="pay" href="/pg/StartPay/${s.authority}/pay">Pay</a> <a id="cancel" href="/pg/StartPay/${s.authority}/cancel">Cancel</a>`,
      }
    }
    return json(404, { data: [], errors: { code: -404, message: `No route ${req.method} ${req.path}` } })
  }

  const server = await startFakeHttp(handle, { port: options.port, latencyMs: options.latencyMs, errorBody: (status) => json(status, { data: [], errors: { code: -52, message: 'Unexpected error' } }) })
  return Object.assign(server, {
    sessions,
    counts,
    session: (authority: string) => sessions.get(authority),
    pay,
  })
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2)
  const merchant = cliFlag(argv, 'merchant')
  const fake = await startFakeZarinpal({ port: Number(cliFlag(argv, 'port') ?? 0), merchantIds: merchant ? [merchant] : undefined })
  process.stdout.write(`fake Zarinpal listening on ${fake.url}\n`)
  const stop = () => void fake.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
