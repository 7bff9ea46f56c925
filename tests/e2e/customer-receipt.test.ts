import QRCode from 'qrcode'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildWeb, removeWebBuild, launchChromium, RECORD_STEPS, signInPage } from '../integration/web-agent/browser.ts'
import { startShopWorld, type ShopWorld } from '../integration/web-agent/world.ts'

/**
 * A customer buys by receipt in one browser context and watches the order; an admin approves the receipt in
 * another. The customer's page goes from "waiting for approval" to "delivered" by itself.
 */
let w: ShopWorld
let browser: Browser
let customerContext: BrowserContext
let adminContext: BrowserContext
let customerPage: Page
let adminPage: Page
let customer: { id: number; username: string }
let admin: { id: number; username: string }

let buildDir: string

beforeAll(async () => {
  buildDir = await buildWeb()
  w = await startShopWorld('e2e_customer', { buildDir })
  customer = (await w.signIn('customer')).user
  admin = (await w.signIn('admin')).user
  browser = await launchChromium()
  customerContext = await browser.newContext({ baseURL: w.url, viewport: { width: 390, height: 844 } })
  await customerContext.addInitScript(RECORD_STEPS)
  adminContext = await browser.newContext({ baseURL: w.url, viewport: { width: 1280, height: 900 } })
  customerPage = await customerContext.newPage()
  adminPage = await adminContext.newPage()
  customerPage.setDefaultTimeout(20_000)
  adminPage.setDefaultTimeout(20_000)
}, 240_000)

afterAll(async () => {
  await browser?.close()
  await w?.close()
  await removeWebBuild(buildDir)
})

describe('a customer buying by receipt', () => {
  it('sees "waiting for approval" turn into "delivered" when an admin approves in another browser', async () => {
    await signInPage(customerPage, customer.username, '/customer')
    await customerPage.goto('/customer/buy')
    await customerPage.check('input[name=payMethod][value=receipt]')
    await expect(customerPage.locator('[data-testid=method-details]').textContent()).resolves.toContain('6037991234567890')
    await customerPage.setInputFiles('#f-receipt', { name: 'receipt.png', mimeType: 'image/png', buffer: await QRCode.toBuffer('bank transfer 150000', { width: 200 }) })
    await customerPage.click('[data-testid=buy]')
    await customerPage.waitForURL(/\/customer\/orders\/\d+$/)
    await customerPage.locator('[data-testid=live-step]', { hasText: 'Waiting for approval' }).waitFor()
    const orderId = Number(/(\d+)$/.exec(customerPage.url())![1])
    const loadedAt = await customerPage.evaluate(() => (window as unknown as { __loadedAt: number }).__loadedAt)
    const payment = await w.h.db('payments').where({ orderId }).first()
    expect(payment).toMatchObject({ userId: customer.id, status: 'PENDING', amount: '150000' })

    await signInPage(adminPage, admin.username, '/admin')
    await adminPage.goto('/admin/payments')
    const card = adminPage.locator(`[data-testid=payment-${payment.id}]`)
    await card.waitFor()
    const approvedAt = performance.now()
    await card.locator('button[value=approve]').click()

    await customerPage.locator('[data-testid=live-step]', { hasText: 'Delivered' }).waitFor()
    console.log(`e2e customer: admin "approve" click → "delivered" on the customer's screen: ${Math.round(performance.now() - approvedAt)} ms`)
    const steps = await customerPage.evaluate(() => (window as unknown as { __steps: string[] }).__steps)
    console.log(`e2e customer: steps the page showed without a reload: ${steps.join(' → ')}`)
    expect(steps.indexOf('awaiting_payment')).toBeGreaterThanOrEqual(0)
    expect(steps.indexOf('awaiting_payment')).toBeLessThan(steps.indexOf('provisioning'))
    expect(steps.at(-1)).toBe('delivered')
    expect(await customerPage.evaluate(() => (window as unknown as { __loadedAt: number }).__loadedAt)).toBe(loadedAt)
    await expect(customerPage.locator('[data-testid=subscription-url]').textContent()).resolves.toMatch(/\/sub\//)
    expect((await w.h.db('payments').where({ id: payment.id }).first()).status).toBe('APPROVED')
    expect((await w.h.db('orders').where({ id: orderId }).first()).status).toBe('delivered')

    await customerPage.goto('/customer/accounts')
    await expect(customerPage.locator('.account-card').count()).resolves.toBe(1)
  })
})
