import { createHash } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ReceiptError, resolveReceiptPath, storeReceipt } from '#db/receipts.ts'
import { signedIn, startTestWeb, TestBrowser, type TestWeb } from './harness.ts'
import { seedPaymentMethod, seedPendingPayment } from './seed.ts'

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('JFIF-receipt-body')])
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('png-body')])
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([0x10, 0, 0, 0]), Buffer.from('WEBPVP8 body')])
const PDF = Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n')

let web: TestWeb
beforeAll(async () => {
  web = await startTestWeb({ label: 'web_receipts', env: { RECEIPT_MAX_BYTES: '1024' } })
})
afterAll(async () => {
  await web?.close()
})

const options = () => ({ uploadDir: web.uploadDir, maxBytes: web.env.RECEIPT_MAX_BYTES })

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))
}

describe('storeReceipt', () => {
  it('accepts JPEG, PNG, WebP and PDF by content and stores them under random names with their SHA-256', async () => {
    const cases: [Buffer, string, string][] = [
      [JPEG, 'photo.png', 'image/jpeg'],
      [PNG, 'scan', 'image/png'],
      [WEBP, 'x.webp', 'image/webp'],
      [PDF, 'statement.pdf', 'application/pdf'],
    ]
    for (const [bytes, name, mime] of cases) {
      const stored = await storeReceipt(bytes, name, options())
      expect(stored.mime).toBe(mime)
      expect(stored.path).toMatch(/^receipts\/\d{4}\/\d{2}\/[0-9a-f]{32}\.(jpg|png|webp|pdf)$/)
      expect(stored.path).not.toContain(name.split('.')[0])
      expect(stored.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
      expect(stored.size).toBe(bytes.length)
      expect(await readFile(path.join(web.uploadDir, stored.path))).toEqual(bytes)
    }
    const a = await storeReceipt(JPEG, 'same.jpg', options())
    const b = await storeReceipt(JPEG, 'same.jpg', options())
    expect(a.path).not.toBe(b.path)
    expect(a.sha256).toBe(b.sha256)
  })

  it('refuses empty, oversized and disguised files and writes nothing', async () => {
    const before = await allFiles(web.uploadDir)
    const refusals: [Buffer, string, string][] = [
      [Buffer.alloc(0), 'empty.jpg', 'EMPTY'],
      [Buffer.concat([JPEG, Buffer.alloc(2000)]), 'big.jpg', 'TOO_LARGE'],
      [Buffer.from('<html><script>alert(1)</script></html>'), 'receipt.jpg', 'UNSUPPORTED_TYPE'],
      [Buffer.from('GIF89a....'), 'anim.gif', 'UNSUPPORTED_TYPE'],
    ]
    for (const [bytes, name, code] of refusals) {
      const error = await storeReceipt(bytes, name, options()).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ReceiptError)
      expect((error as ReceiptError).code).toBe(code)
    }
    const message = await storeReceipt(Buffer.from('nope'), 'my-receipt.heic', options()).catch((e: Error) => e.message)
    expect(message).toBe('"my-receipt.heic" is not a JPEG, PNG or WebP photo or a PDF')
    expect(await allFiles(web.uploadDir)).toEqual(before)
  })

  it('never resolves a path outside the upload directory', () => {
    expect(() => resolveReceiptPath(web.uploadDir, '../../etc/passwd')).toThrow(ReceiptError)
    expect(() => resolveReceiptPath(web.uploadDir, '/etc/passwd')).toThrow(ReceiptError)
    expect(resolveReceiptPath(web.uploadDir, 'receipts/2026/01/a.jpg')).toBe(path.join(path.resolve(web.uploadDir), 'receipts/2026/01/a.jpg'))
  })
})

describe('the receipt route', () => {
  it('serves a receipt to its payer and to admins only', async () => {
    const { browser: owner, user } = await signedIn(web, 'agent')
    const stored = await storeReceipt(PNG, 'r.png', options())
    const paymentId = await seedPendingPayment(web.db, { userId: user.id, methodId: await seedPaymentMethod(web.db), receiptPath: stored.path, receiptMime: stored.mime })

    const mine = await fetch(`${web.url}/receipts/${paymentId}`, { headers: { Cookie: `fp_session=${owner.cookies.get('fp_session')}` } })
    expect(mine.status).toBe(200)
    expect(mine.headers.get('content-type')).toBe('image/png')
    expect(mine.headers.get('cache-control')).toBe('private, no-store')
    expect(Buffer.from(await mine.arrayBuffer())).toEqual(PNG)

    const { browser: admin } = await signedIn(web, 'admin')
    expect((await admin.get(`/receipts/${paymentId}`)).status).toBe(200)

    const { browser: stranger } = await signedIn(web, 'customer')
    const refused = await stranger.get(`/receipts/${paymentId}`)
    expect(refused.status).toBe(404)
    expect(refused.text).not.toContain('png-body')
    const { browser: otherAgent } = await signedIn(web, 'agent')
    expect((await otherAgent.get(`/receipts/${paymentId}`)).status).toBe(404)

    const anonymous = await new TestBrowser(web.url).get(`/receipts/${paymentId}`)
    expect(anonymous.status).toBe(302)
    expect(anonymous.location).toBe(`/login?redirectTo=%2Freceipts%2F${paymentId}`)
  })

  it('answers 404 for a payment without a file, a missing file, or a file changed on disk', async () => {
    const { browser, user } = await signedIn(web, 'customer')
    const methodId = await seedPaymentMethod(web.db)
    const none = await seedPendingPayment(web.db, { userId: user.id, methodId })
    expect((await browser.get(`/receipts/${none}`)).status).toBe(404)
    const gone = await seedPendingPayment(web.db, { userId: user.id, methodId, receiptPath: 'receipts/2026/01/0000.jpg', receiptMime: 'image/jpeg' })
    expect((await browser.get(`/receipts/${gone}`)).status).toBe(404)
    const stored = await storeReceipt(JPEG, 'r.jpg', options())
    await writeFile(path.join(web.uploadDir, stored.path), '<html>not a receipt</html>')
    const swapped = await seedPendingPayment(web.db, { userId: user.id, methodId, receiptPath: stored.path, receiptMime: stored.mime })
    expect((await browser.get(`/receipts/${swapped}`)).status).toBe(404)
    expect((await browser.get('/receipts/abc')).status).toBe(404)
  })
})
