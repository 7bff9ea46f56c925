import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createApiToken } from '#db/api-tokens.ts'
import { API_BODY_MAX_BYTES, FORM_BODY_MAX_BYTES } from '../../../web/app/utils/body-limits.server.ts'
import { makeUser, PASSWORD, signedIn, startTestWeb, TestBrowser, type TestWeb } from './harness.ts'
import { count, seedPaymentMethod } from './seed.ts'

/**
 * Request bodies are bounded per route before anything reads them: real HTTP requests with a declared
 * Content-Length far over the limit, and chunked bodies that never say how long they are.
 */
const RECEIPT_MAX_BYTES = 200 * 1024
const MB = 1024 * 1024
let web: TestWeb
let methodId: number

beforeAll(async () => {
  web = await startTestWeb({ label: 'body_limits', env: { RECEIPT_MAX_BYTES: String(RECEIPT_MAX_BYTES) } })
  methodId = await seedPaymentMethod(web.db)
})
afterAll(async () => {
  await web?.close()
})

interface RawAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  /** Body bytes written before the answer came (the rest was never sent). */
  sent: number
}

/**
 * Sends `chunks` as the body, one at a time, and stops as soon as the server answers; `declaredLength` sets
 * Content-Length (the body is then cut short when the answer comes first), otherwise the body is chunked.
 */
function send(path: string, options: { headers?: Record<string, string>; declaredLength?: number; chunks: () => Iterable<Buffer> }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, web.url)
    const headers: Record<string, string | number> = { 'User-Agent': 'flowpanel-tests', ...options.headers }
    if (options.declaredLength !== undefined) headers['Content-Length'] = options.declaredLength
    else headers['Transfer-Encoding'] = 'chunked'
    const req = httpRequest(url, { method: 'POST', headers })
    let sent = 0
    let answered = false
    req.on('response', (res) => {
      answered = true
      const parts: Buffer[] = []
      res.on('data', (part: Buffer) => parts.push(part))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(parts).toString('utf8'), sent })
        req.destroy()
      })
      res.on('error', reject)
    })
    // Once the server answered and closed, further writes fail; that is the point.
    req.on('error', (error) => {
      if (!answered) reject(error)
    })
    void (async () => {
      for (const chunk of options.chunks()) {
        if (answered || req.destroyed) return
        const flushed = req.write(chunk)
        sent += chunk.length
        if (!flushed) await new Promise((r) => req.once('drain', r).once('close', r))
        // Let the answer in between chunks, as a slow client would.
        await new Promise((r) => setImmediate(r))
      }
      if (!answered && !req.destroyed) req.end()
    })().catch(reject)
  })
}

function* filler(total: number, size = 64 * 1024, fill = 'a'): Iterable<Buffer> {
  const chunk = Buffer.alloc(size, fill)
  for (let left = total; left > 0; left -= size) yield left >= size ? chunk : chunk.subarray(0, left)
}

const form = { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Forwarded-For': '10.123.0.1' }
const english = { Cookie: 'fp_prefs=en.dark' }

describe('anonymous forms', () => {
  test('a declared 50 MB sign-in is refused with 413 before its body is read, in the visitor language', async () => {
    const answer = await send('/login', { headers: { ...form, ...english }, declaredLength: 50 * MB, chunks: () => filler(50 * MB) })
    expect(answer.status).toBe(413)
    expect(answer.text).toBe('This form is larger than 256 KB, the most a form may be, so it was not read. Shorten it and send it again.')
    expect(answer.sent).toBeLessThan(2 * MB)
  })

  test('the refusal is in Persian with Persian digits by default', async () => {
    const answer = await send('/login', { headers: form, declaredLength: 50 * MB, chunks: () => filler(50 * MB) })
    expect(answer.status).toBe(413)
    expect(answer.text).toContain('۲۵۶ کیلوبایت')
  })

  test('a chunked sign-in is cut off once it passes the form limit', async () => {
    const answer = await send('/login', { headers: { ...form, ...english }, chunks: () => filler(50 * MB, 16 * 1024) })
    expect(answer.status).toBe(413)
    expect(answer.text).toContain('256 KB')
    expect(answer.sent).toBeGreaterThan(FORM_BODY_MAX_BYTES)
    expect(answer.sent).toBeLessThan(8 * MB)
  })

  test('a chunked form under the limit is read as before', async () => {
    const user = await makeUser(web.db, 'customer')
    const fresh = new TestBrowser(web.url)
    const csrf = await fresh.ensureCsrf()
    const body = new URLSearchParams({ _csrf: csrf, username: user.username, password: PASSWORD }).toString()
    const cookie = [...fresh.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    const answer = await send('/login', { headers: { ...form, Cookie: cookie }, chunks: () => [Buffer.from(body.slice(0, 10)), Buffer.from(body.slice(10))] })
    expect(answer.status).toBe(302)
    expect(answer.headers.location).toBe('/customer')
  })
})

describe('the API', () => {
  test('a declared body over its limit is a 413 in the API error shape, before authentication', async () => {
    const answer = await send('/api/v1/orders', { headers: { 'Content-Type': 'application/json' }, declaredLength: 50 * MB, chunks: () => filler(50 * MB) })
    expect(answer.status).toBe(413)
    expect(answer.headers['content-type']).toMatch(/^application\/json/)
    expect(JSON.parse(answer.text)).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is larger than 64 KiB, the most this API accepts' } })
    expect(answer.sent).toBeLessThan(2 * MB)
  })

  test('a chunked body of a signed request is cut off at the limit', async () => {
    const agent = await makeUser(web.db, 'agent')
    const { token } = await createApiToken(web.db, { userId: agent.id, name: 'limits' })
    const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Idempotency-Key': 'body-limits-1' }
    const answer = await send('/api/v1/orders', { headers, chunks: () => filler(10 * MB, 16 * 1024) })
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.text).error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(answer.sent).toBeGreaterThan(API_BODY_MAX_BYTES)
  })

  test('a body under the limit reaches the API (which then asks for a token)', async () => {
    const answer = await send('/api/v1/orders', { headers: { 'Content-Type': 'application/json' }, chunks: () => [Buffer.from('{"planId":1}')] })
    expect(answer.status).toBe(401)
  })
})

describe('receipt uploads', () => {
  const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

  async function agentUpload() {
    const { browser, user } = await signedIn(web, 'agent')
    await web.db('users').where({ id: user.id }).update({ locale: 'en' })
    await browser.get(`/agent/wallet?method=${methodId}`)
    const csrf = await browser.ensureCsrf()
    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    /** A multipart top-up whose receipt has `fileBytes` bytes. */
    const multipart = (fileBytes: number, amount = '250000') => {
      const boundary = '----flowpanel-test-boundary'
      const head = Buffer.from(
        [
          `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n`,
          `--${boundary}\r\nContent-Disposition: form-data; name="methodId"\r\n\r\n${methodId}\r\n`,
          `--${boundary}\r\nContent-Disposition: form-data; name="amount"\r\n\r\n${amount}\r\n`,
          `--${boundary}\r\nContent-Disposition: form-data; name="receipt"; filename="r.png"\r\nContent-Type: image/png\r\n\r\n`,
        ].join(''),
      )
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
      const body = () => [head, ...(fileBytes > 0 ? [PNG] : []), ...filler(Math.max(0, fileBytes - PNG.length), 32 * 1024, 'x'), tail]
      const length = head.length + Math.max(fileBytes, 0) + tail.length
      return { headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, Cookie: `${cookie}; fp_prefs=en.dark`, 'X-Forwarded-For': browser.ip }, body, length }
    }
    return { multipart }
  }

  /** The wallet page again, its top-up form with the receipt field's error naming the limit. */
  function expectFormWithLimit(answer: RawAnswer) {
    expect(answer.status).toBe(413)
    expect(answer.headers['content-type']).toMatch(/^text\/html/)
    expect(answer.text).toContain('name="amount"')
    expect(answer.text).toContain('name="receipt"')
    expect(answer.text).toContain('The receipt is larger than the 200 KB limit. Choose a smaller photo or PDF and send the form again.')
  }

  test('a receipt form within the limit is read, declared or chunked', async () => {
    const { multipart } = await agentUpload()
    // An amount the form refuses: the answer names the amount, so every field and the file were read.
    const upload = multipart(RECEIPT_MAX_BYTES - 1024, 'not a number')
    for (const declaredLength of [upload.length, undefined]) {
      const answer = await send(`/agent/wallet?method=${methodId}`, { headers: upload.headers, declaredLength, chunks: upload.body })
      expect(answer.status).toBe(400)
      expect(answer.text).toContain('id="f-amount-error"')
      expect(answer.text).not.toContain('The receipt is larger')
    }
  })

  test('a receipt over RECEIPT_MAX_BYTES in a body under the upload limit shows the form with the limit', async () => {
    const { multipart } = await agentUpload()
    const upload = multipart(RECEIPT_MAX_BYTES + 20 * 1024)
    const answer = await send(`/agent/wallet?method=${methodId}`, { headers: upload.headers, declaredLength: upload.length, chunks: upload.body })
    expectFormWithLimit(answer)
  })

  test('a declared 50 MB upload shows the form with the limit and its body is not read', async () => {
    const { multipart } = await agentUpload()
    const upload = multipart(50 * MB)
    const before = await count(web.db, 'payments')
    const answer = await send(`/agent/wallet?method=${methodId}`, { headers: upload.headers, declaredLength: upload.length, chunks: upload.body })
    expectFormWithLimit(answer)
    expect(answer.sent).toBeLessThan(4 * MB)
    expect(await count(web.db, 'payments')).toBe(before)
  })

  test('a chunked 50 MB upload is cut off at the limit and shows the form with the limit', async () => {
    const { multipart } = await agentUpload()
    const upload = multipart(50 * MB)
    const answer = await send(`/agent/wallet?method=${methodId}`, { headers: upload.headers, chunks: upload.body })
    expectFormWithLimit(answer)
    expect(answer.sent).toBeLessThan(8 * MB)
  })

  test('an anonymous 50 MB upload is sent to sign-in without its body being read', async () => {
    const answer = await send('/agent/wallet', { headers: { 'Content-Type': 'multipart/form-data; boundary=x' }, declaredLength: 50 * MB, chunks: () => filler(50 * MB) })
    expect(answer.status).toBe(302)
    expect(answer.headers.location).toMatch(/^\/login\?redirectTo=/)
    expect(answer.sent).toBeLessThan(4 * MB)
  })
})
