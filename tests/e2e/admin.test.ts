import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import QRCode from 'qrcode'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { submitPayment } from '#db/payments.ts'
import { storeReceipt } from '#db/receipts.ts'
import { createUser } from '#db/users.ts'
import { startWebServer, type WebServer } from '../../web/server.ts'
import { temporalProviderFromClient } from '../../web/app/utils/temporal.server.ts'
import { startHarness, waitFor, type Harness } from '../workflows/harness.ts'
import { buildWeb, removeWebBuild } from '../integration/web-agent/browser.ts'

/**
 * The admin console in a real browser (Debian chromium driven by playwright-core) against the production
 * build, flowpanel's real worker and Temporal's time-skipping test server: sign in, create a plan and an agent,
 * approve a receipt and see the workflow's answer, in Persian (RTL) and English, dark and light.
 * Screenshots go to test-artifacts/.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const ARTIFACTS = path.join(ROOT, 'test-artifacts')
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ADMIN_PASSWORD = 'e2e admin password'

let h: Harness
let server: WebServer
let redis: Redis
let browser: Browser
let context: BrowserContext
let page: Page
let uploadDir: string
let buildDir: string
let methodId: number
const timings: Record<string, number> = {}

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now()
  try {
    return await fn()
  } finally {
    timings[name] = Math.round(performance.now() - started)
  }
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true })
}

/** A customer's receipt, a real PNG, submitted through the payment workflow. */
async function pendingReceipt(amount: string): Promise<number> {
  const customer = await createUser(h.db, { username: `payer_${randomBytes(3).toString('hex')}`, role: 'customer', displayName: 'Maryam Ahmadi' })
  const png = await QRCode.toBuffer(`receipt ${amount}`, { width: 240, margin: 1 })
  const receipt = await storeReceipt(png, 'receipt.png', { uploadDir, maxBytes: 1_000_000 })
  const { payment } = await submitPayment(h.db, h.client, { userId: customer.id, methodId, amount, receipt })
  await waitFor('the pending charge', async () => (await h.db('wallets').where({ userId: customer.id }).first()).pending === amount)
  return payment.id
}

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true })
  uploadDir = await mkdtemp(path.join(tmpdir(), 'fp-e2e-uploads-'))
  buildDir = await timed('build', buildWeb)
  h = await timed('harness', () => startHarness('e2e_admin', { env: { UPLOAD_DIR: uploadDir, DEFAULT_LOCALE: 'fa' } }))
  redis = new Redis(h.redisUrl)
  server = await startWebServer({ env: h.appEnv, db: h.db, redis, temporal: temporalProviderFromClient(h.client), port: 0, host: '127.0.0.1', mode: 'production', buildDir })
  await createUser(h.db, { username: 'e2e_admin', password: ADMIN_PASSWORD, role: 'admin', displayName: 'مدیر آزمایشی' })
  const [method] = await h.db('paymentMethods').insert({ kind: 'CARD', titleFa: 'کارت به کارت', titleEn: 'Card to card' }).returning('id')
  methodId = method.id
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
  context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 900 } })
  page = await context.newPage()
  page.setDefaultTimeout(20_000)
}, 240_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
  redis?.disconnect()
  await h?.teardown()
  if (uploadDir) await rm(uploadDir, { recursive: true, force: true })
  await removeWebBuild(buildDir)
  console.log(`e2e admin timings (ms): ${JSON.stringify(timings)}`)
})

describe('the admin console in a browser', () => {
  it('signs in and lands on the dashboard, in Persian and right to left by default', async () => {
    await timed('sign-in', async () => {
      await page.goto('/login')
      await page.fill('#f-username', 'e2e_admin')
      await page.fill('#f-password', ADMIN_PASSWORD)
      await page.click('main button[type=submit]')
      await page.waitForURL('**/admin')
      // The URL changes as the client navigation starts; wait for the dashboard itself to render.
      await page.locator('h1', { hasText: 'داشبورد' }).first().waitFor()
    })
    expect(await page.getAttribute('html', 'dir')).toBe('rtl')
    expect(await page.getAttribute('html', 'lang')).toBe('fa')
    expect(await page.getAttribute('html', 'data-theme')).toBe('dark')
    await expect(page.locator('h1').first().textContent()).resolves.toBe('داشبورد')
    await expect(page.locator('[data-testid=stat-sales]').textContent()).resolves.toContain('تومان')
  })

  it('creates a plan', async () => {
    await timed('create-plan', async () => {
      await page.click('.nav-wide a[href="/admin/plans"]')
      await page.waitForURL('**/admin/plans')
      const form = page.locator('form:has(button[value=create])')
      await form.locator('#f-nameFa').fill('دو ماهه ویژه')
      await form.locator('#f-nameEn').fill('Two months special')
      await form.locator('#f-days').fill('۶۰')
      await form.locator('#f-dataGb').fill('80')
      await form.locator('#f-price').fill('290,000')
      await form.locator('#f-agentPrice').fill('250000')
      await form.locator('input[name=locationIds]').first().check()
      await form.locator('button[value=create]').click()
      await page.locator('.notice-success').waitFor()
      await page.locator('table', { hasText: 'دو ماهه ویژه' }).first().waitFor()
    })
    await expect(page.locator('.notice-success').textContent()).resolves.toBe('پلن ساخته شد.')
    await expect(page.locator('table').textContent()).resolves.toContain('دو ماهه ویژه')
    const plan = await h.db('plans').where({ nameEn: 'Two months special' }).first()
    expect(plan).toMatchObject({ days: 60, price: '290000', agentPrice: '250000' })
  })

  it('creates an agent', async () => {
    await timed('create-agent', async () => {
      await page.goto('/admin/agents/new')
      await page.fill('#f-username', 'shop_tehran')
      await page.fill('#f-password', 'agent password 42')
      await page.fill('#f-firstName', 'رضا')
      await page.fill('#f-lastName', 'کریمی')
      await page.fill('#f-phone', '09121234567')
      await page.fill('#f-shopName', 'فروشگاه تهران')
      await page.fill('#f-maxActiveAccounts', '100')
      await page.click('button[value=create]')
      await page.waitForURL(/\/admin\/agents\/\d+\?notice=created/)
      await page.locator('h1', { hasText: 'رضا کریمی' }).first().waitFor()
    })
    await expect(page.locator('.notice-success').textContent()).resolves.toBe('نماینده ساخته شد.')
    await expect(page.locator('h1').first().textContent()).resolves.toBe('رضا کریمی')
    const agent = await h.db('users').where({ username: 'shop_tehran' }).first()
    expect(agent.role).toBe('agent')
  })

  it('approves a pending receipt and shows the payment workflow’s answer', async () => {
    const paymentId = await pendingReceipt('350000')
    await page.goto('/admin/payments')
    const card = page.locator(`[data-testid=payment-${paymentId}]`)
    await card.waitFor()
    const image = card.locator('img.receipt-preview')
    await image.waitFor()
    await expect(image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).resolves.toBe(true)
    await expect(card.textContent()).resolves.toContain('۳۵۰٬۰۰۰ تومان')
    await shot('payments-fa-dark')
    await timed('approve-to-answer', async () => {
      await card.locator('button[value=approve]').click()
      await page.locator('[data-testid=decision-result]').waitFor()
    })
    await expect(page.locator('[data-testid=decision-result]').textContent()).resolves.toContain('تأیید شد. اعتبار قابل استفاده پرداخت‌کننده اکنون ۳۵۰٬۰۰۰ تومان است.')
    await expect(page.locator(`[data-testid=decided-${paymentId}]`).textContent()).resolves.toContain('تأییدشده')
    expect((await h.db('payments').where({ id: paymentId }).first()).status).toBe('APPROVED')
  })

  it('shows the dashboard and the payments queue in the light theme', async () => {
    await pendingReceipt('120000')
    await page.goto('/admin')
    await page.click('[data-testid=switch-theme]')
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light')
    await shot('dashboard-fa-light')
    await page.goto('/admin/payments')
    await shot('payments-fa-light')
    await page.click('[data-testid=switch-theme]')
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark')
    await page.goto('/admin')
    await shot('dashboard-fa-dark')
  })

  it('switches to English, left to right, and approves a receipt there too', async () => {
    await page.click('[data-testid=switch-language]')
    await page.waitForFunction(() => document.documentElement.lang === 'en')
    await page.locator('h1', { hasText: 'Dashboard' }).first().waitFor()
    expect(await page.getAttribute('html', 'dir')).toBe('ltr')
    await expect(page.locator('h1').first().textContent()).resolves.toBe('Dashboard')
    await expect(page.locator('[data-testid=stat-pending] .value').textContent()).resolves.toBe('1')
    await shot('dashboard-en-dark')

    await page.goto('/admin/payments')
    const paymentId = await h.db('payments').where({ status: 'PENDING' }).first().then((p) => p.id as number)
    const card = page.locator(`[data-testid=payment-${paymentId}]`)
    await expect(card.textContent()).resolves.toContain('120,000 Toman')
    await shot('payments-en-dark')
    await card.locator('button[value=reject]').click()
    // The reject note is required: the browser keeps the form until it is filled.
    await expect(card.locator(`#reject-note-${paymentId}:invalid`).count()).resolves.toBe(1)
    await card.locator(`#reject-note-${paymentId}`).fill('amount does not match the statement')
    await card.locator('button[value=reject]').click()
    await page.locator('[data-testid=decision-result]').waitFor()
    await expect(page.locator('[data-testid=decision-result]').textContent()).resolves.toContain('Rejected.')

    await page.click('[data-testid=switch-theme]')
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'light')
    await pendingReceipt('75000')
    await page.goto('/admin/payments')
    await shot('payments-en-light')
    await page.goto('/admin')
    await shot('dashboard-en-light')
    const prefs = await h.db('users').where({ username: 'e2e_admin' }).first()
    expect([prefs.locale, prefs.theme]).toEqual(['en', 'light'])
  })

  it('works on a phone-sized screen', async () => {
    const phone = await browser.newContext({ baseURL: server.url, viewport: { width: 390, height: 844 }, isMobile: true, storageState: await context.storageState() })
    const small = await phone.newPage()
    await small.goto('/admin/payments')
    const layout = await small.evaluate(() => {
      const width = document.documentElement.clientWidth
      const wide = [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.parentElement?.closest('.table-wrap'))
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} ends at ${Math.round(e.getBoundingClientRect().right)}px`)
      return { overflow: document.documentElement.scrollWidth - width, wide }
    })
    // Wide tables scroll inside their own box; the page itself never scrolls sideways.
    expect(layout.overflow, layout.wide.join('\n')).toBeLessThanOrEqual(1)
    await small.screenshot({ path: path.join(ARTIFACTS, 'payments-en-light-phone.png'), fullPage: true })
    await phone.close()
  })
})
