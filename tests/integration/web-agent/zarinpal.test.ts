import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { checkLedger, getWallet } from '#db/ledger.ts'
import { decidePayment } from '#db/payments.ts'
import { listPendingPayments as botPendingPayments } from '#db/telegram.ts'
import { listPendingPayments } from '#db/web-payments.ts'
import { paymentStatusQuery } from '#temporal/messages.ts'
import { paymentWorkflowId } from '#temporal/workflow-ids.ts'
import { idFrom, MERCHANT_ID, orderKey, pngReceipt, postMultipart, startShopWorld, waitFor, type ShopWorld } from './world.ts'

let w: ShopWorld
beforeAll(async () => {
  w = await startShopWorld('shop_zarinpal')
})
afterAll(async () => {
  await w?.close()
})

type Browser = Awaited<ReturnType<ShopWorld['signIn']>>['browser']

async function buyWithZarinpal(browser: Browser) {
  const response = await browser.post('/customer/buy', { planId: String(w.h.planId), locationId: String(w.h.locationId), payMethod: 'zarinpal', orderKey: orderKey(), intent: 'buy' })
  expect(response.status, response.text.slice(0, 400)).toBe(302)
  const startPay = new URL(response.location!)
  expect(startPay.origin).toBe(w.zarinpal.url)
  const authority = /^\/pg\/StartPay\/([A-Za-z0-9]+)$/.exec(startPay.pathname)![1]!
  const request = await w.h.db('gatewayRequests').where({ authority }).first()
  const payment = await w.h.db('payments').where({ id: request.paymentId }).first()
  return { authority, payment, request }
}

/** The payment workflow has started and knows the gateway confirms this payment. */
async function paymentStarted(paymentId: number) {
  const handle = w.h.client.workflow.getHandle(paymentWorkflowId(paymentId))
  await waitFor('the payment workflow', async () => (await handle.query(paymentStatusQuery).catch(() => null))?.confirmedBy === 'gateway')
}

async function snapshot(userId: number) {
  const wallet = await getWallet(w.h.db, userId)
  const entries = await w.h.db('ledgerEntries').where({ walletUserId: userId }).orderBy('id').select('type', 'confirmedDelta', 'pendingDelta')
  const payments = await w.h.db('payments').where({ userId }).orderBy('id').select('id', 'status', 'gatewayRefId')
  return { wallet, entries, payments }
}

describe('buying with Zarinpal', () => {
  test('a customer pays on the gateway, the callback is verified for the stored amount and the order is delivered once', async () => {
    const { browser, user } = await w.signIn('customer')
    const buy = await browser.get('/customer/buy')
    expect(buy.text).toContain('Online (Zarinpal)')
    expect(buy.text).toContain('150,000')

    const { authority, payment, request } = await buyWithZarinpal(browser)
    expect(payment).toMatchObject({ userId: user.id, status: 'PENDING', amount: '150000', methodId: w.zarinpalMethodId })
    expect(request).toMatchObject({ status: 'requested', amount: '150000' })
    expect(w.zarinpal.session(authority)).toMatchObject({ amount: 150000, currency: 'IRT', merchantId: MERCHANT_ID })
    expect(w.zarinpal.session(authority)!.callbackUrl).toBe(`${w.url}/zarinpal/callback`)
    const order = await w.h.db('orders').where({ id: payment.orderId }).first()
    expect(order).toMatchObject({ payMethod: 'zarinpal', price: '150000' })
    await waitFor('order awaiting payment', async () => (await w.h.db('orders').where({ id: order.id }).first()).status === 'awaiting_payment')
    await paymentStarted(payment.id)

    // Not paid yet: nothing is credited, and no admin can approve it (not queued on the web nor in the bot).
    expect(await getWallet(w.h.db, user.id)).toMatchObject({ confirmed: 0n, pending: 0n })
    expect((await listPendingPayments(w.h.db)).map((p) => p.id)).not.toContain(payment.id)
    expect((await botPendingPayments(w.h.db, 100)).map((p) => p.id)).not.toContain(payment.id)
    const admin = await w.signIn('admin')
    const queue = await admin.browser.get('/admin/payments')
    expect(queue.status).toBe(200)
    expect(queue.text).not.toContain(`data-testid="payment-${payment.id}"`)
    const approveByHand = await admin.browser.post('/admin/payments', { intent: 'approve', paymentId: String(payment.id) })
    expect(approveByHand.text).toContain('This payment is paid online; it is confirmed by the gateway, not by an admin.')
    expect(await decidePayment(w.h.client, payment.id, { decision: 'approve', adminId: w.h.adminId })).toMatchObject({
      ok: false,
      reason: 'paid_online',
      message: `Payment #${payment.id} is paid online; it is confirmed by the gateway, not by an admin`,
    })
    expect((await w.h.db('payments').where({ id: payment.id }).first()).status).toBe('PENDING')

    // The payer comes back without paying (Status=OK forged): Zarinpal says -51 and nothing moves.
    const before = await snapshot(user.id)
    const unpaid = await browser.get(`/zarinpal/callback?Authority=${authority}&Status=OK`)
    expect(unpaid.status).toBe(302)
    expect(unpaid.location).toBe(`/customer/orders/${order.id}?gateway=failed`)
    expect(await w.h.db('gatewayRequests').where({ authority }).first()).toMatchObject({ status: 'failed', resultCode: -51 })
    expect(await snapshot(user.id)).toEqual(before)

    // Paying on the gateway sends the browser back with Status=OK; the callback verifies and signals the payment workflow.
    const paid = await fetch(`${w.zarinpal.url}/pg/StartPay/${authority}/pay`, { redirect: 'manual' })
    const callback = new URL(paid.headers.get('location')!)
    expect(callback.pathname).toBe('/zarinpal/callback')
    const verified = await browser.get(callback.pathname + callback.search)
    expect(verified.location).toBe(`/customer/orders/${order.id}?gateway=verified`)
    await waitFor('order delivered', async () => (await w.h.db('orders').where({ id: order.id }).first()).status === 'delivered')
    const settled = await w.h.db('payments').where({ id: payment.id }).first()
    expect(settled).toMatchObject({ status: 'APPROVED', gatewayAuthority: authority, decidedBy: null })
    expect(settled.gatewayRefId).toMatch(/^\d+$/)
    const after = await snapshot(user.id)
    expect(after.wallet).toMatchObject({ confirmed: 0n, pending: 0n })
    expect(after.entries.map((e) => e.type)).toEqual(['CHARGE_PENDING', 'CHARGE_APPROVED', 'ORDER_DEBIT'])
    const page = await browser.get(`/customer/orders/${order.id}`)
    expect(page.text).toContain('Delivered')
    expect(page.text).toContain('data-testid="subscription-url"')

    // A replayed callback changes nothing (the gateway would answer 101; the payment is settled already).
    const verifyCalls = w.zarinpal.counts.verify
    const replay = await browser.get(callback.pathname + callback.search)
    expect(replay.location).toBe(`/customer/orders/${order.id}?gateway=closed`)
    expect(await snapshot(user.id)).toEqual(after)
    expect(w.zarinpal.counts.verify).toBe(verifyCalls)
    expect(await w.h.db('accounts').where({ userId: user.id })).toHaveLength(1)
    expect((await checkLedger(w.h.db, user.id)).ok).toBe(true)
  })

  test('a forged callback (unknown authority, another status, a session paid with a different amount) changes nothing', async () => {
    const { browser, user } = await w.signIn('customer')
    const { authority, payment } = await buyWithZarinpal(browser)
    await paymentStarted(payment.id)
    const before = await snapshot(user.id)
    const verifyCalls = w.zarinpal.counts.verify

    const unknown = await browser.get('/zarinpal/callback?Authority=A000000000000000000000000000000FORGED&Status=OK')
    expect(unknown.status).toBe(200)
    expect(unknown.text).toContain('This payment is unknown to us')
    const malformed = await browser.get("/zarinpal/callback?Authority=';drop%20table%20payments;--&Status=OK")
    expect(malformed.status).toBe(200)
    expect(w.zarinpal.counts.verify).toBe(verifyCalls)

    const cancelled = await browser.get(`/zarinpal/callback?Authority=${authority}&Status=NOK`)
    expect(cancelled.location).toBe(`/customer/orders/${payment.orderId}?gateway=cancelled`)
    expect(await w.h.db('gatewayRequests').where({ authority }).first()).toMatchObject({ status: 'cancelled' })

    // The payer paid less than the order costs on the gateway: verification with our amount fails (-50).
    w.zarinpal.pay(authority, { amount: 1000 })
    const short = await browser.get(`/zarinpal/callback?Authority=${authority}&Status=OK`)
    expect(short.location).toBe(`/customer/orders/${payment.orderId}?gateway=failed`)
    expect(await w.h.db('gatewayRequests').where({ authority }).first()).toMatchObject({ status: 'failed', resultCode: -50 })
    expect(await snapshot(user.id)).toEqual(before)
    expect((await w.h.db('payments').where({ id: payment.id }).first()).status).toBe('PENDING')

    // Paying again on a fresh session of the same payment goes through, once.
    const again = await browser.post('/zarinpal/pay', { orderId: String(payment.orderId) })
    const fresh = /\/pg\/StartPay\/([A-Za-z0-9]+)$/.exec(again.location ?? '')![1]!
    expect(fresh).not.toBe(authority)
    expect(await w.h.db('payments').where({ userId: user.id })).toHaveLength(1)
    w.zarinpal.pay(fresh)
    const [first, second] = await Promise.all([
      browser.get(`/zarinpal/callback?Authority=${fresh}&Status=OK`),
      browser.get(`/zarinpal/callback?Authority=${fresh}&Status=OK`),
    ])
    expect([first.location, second.location].sort()).toEqual(expect.arrayContaining([`/customer/orders/${payment.orderId}?gateway=verified`]))
    await waitFor('order delivered', async () => (await w.h.db('orders').where({ id: payment.orderId }).first()).status === 'delivered')
    const entries = (await snapshot(user.id)).entries.map((e) => e.type)
    expect(entries).toEqual(['CHARGE_PENDING', 'CHARGE_APPROVED', 'ORDER_DEBIT'])
    expect((await checkLedger(w.h.db, user.id)).ok).toBe(true)
  })

  test('a verification that lands after the payment expired is recorded for support and the payer is told so; nothing is credited', async () => {
    const { browser, user } = await w.signIn('customer')
    const { authority, payment } = await buyWithZarinpal(browser)
    await paymentStarted(payment.id)
    w.zarinpal.pay(authority)
    const before = await snapshot(user.id)

    // The verification is on its way while the gateway window closes and the payment expires.
    w.zarinpal.latencyMs = 3_000
    const seen = w.zarinpal.requests.length
    const callback = browser.get(`/zarinpal/callback?Authority=${authority}&Status=OK`)
    await waitFor('the verification to be sent', () => w.zarinpal.requests.slice(seen).some((r) => r.path.endsWith('/verify.json')))
    await w.h.env.sleep('61 minutes')
    await waitFor('the payment to expire', async () => (await w.h.db('payments').where({ id: payment.id }).first()).status === 'EXPIRED')
    const late = await callback
    w.zarinpal.latencyMs = 0

    expect(late.location).toBe(`/customer/orders/${payment.orderId}?gateway=late`)
    expect((await browser.get(late.location!)).text).toContain('please contact support to have it credited or refunded')
    const request = await w.h.db('gatewayRequests').where({ authority }).first()
    expect(request).toMatchObject({ status: 'verified', resultCode: 100 })
    const row = await w.h.db('payments').where({ id: payment.id }).first()
    expect(row.status).toBe('EXPIRED')
    expect(row.note).toBe(`Zarinpal took 150000 (authority ${authority}, ref ${request.refId}) after the payment had closed (EXPIRED); not credited: credit or refund it by hand`)
    expect(await snapshot(user.id)).toEqual({ ...before, payments: [{ id: payment.id, status: 'EXPIRED', gatewayRefId: null }] })
    expect((await checkLedger(w.h.db, user.id)).ok).toBe(true)
  })

  test('a customer buys by receipt: the order waits for the approval and is delivered after it; a bad receipt places no order', async () => {
    const { browser, user } = await w.signIn('customer')
    const fields = { planId: String(w.h.planId), locationId: String(w.h.locationId), payMethod: 'receipt', methodId: String(w.cardMethodId), intent: 'buy' }
    const missing = await postMultipart(browser, '/customer/buy', { ...fields, orderKey: orderKey() })
    expect(missing.status).toBe(400)
    expect(missing.text).toContain('Upload the receipt.')
    const notImage = await postMultipart(browser, '/customer/buy', { ...fields, orderKey: orderKey() }, { receipt: { bytes: Buffer.from('<html>'), name: 'r.png', type: 'image/png' } })
    expect(notImage.status).toBe(400)
    expect(await w.h.db('orders').where({ userId: user.id })).toHaveLength(0)
    expect(await w.h.db('payments').where({ userId: user.id })).toHaveLength(0)

    const bought = await postMultipart(browser, '/customer/buy', { ...fields, orderKey: orderKey() }, { receipt: { bytes: pngReceipt('customer'), name: 'r.png', type: 'image/png' } })
    expect(bought.status, bought.text.slice(0, 300)).toBe(302)
    const orderId = idFrom(bought.location, '/customer/orders/')
    const payment = await w.h.db('payments').where({ orderId }).first()
    expect(payment).toMatchObject({ userId: user.id, amount: '150000', status: 'PENDING' })
    await waitFor('order awaiting payment', async () => (await w.h.db('orders').where({ id: orderId }).first()).status === 'awaiting_payment')
    expect((await browser.get(`/customer/orders/${orderId}`)).text).toContain('Waiting for approval')
    // Pending credit is not spendable by a customer: nothing is debited before the approval.
    expect(await getWallet(w.h.db, user.id)).toMatchObject({ confirmed: 0n, pending: 150000n })

    await decidePayment(w.h.client, payment.id, { decision: 'approve', adminId: w.h.adminId })
    await waitFor('order delivered', async () => (await w.h.db('orders').where({ id: orderId }).first()).status === 'delivered')
    expect(await getWallet(w.h.db, user.id)).toMatchObject({ confirmed: 0n, pending: 0n })
    const history = await browser.get('/customer/payments')
    expect(history.text).toContain(`/customer/payments/${payment.id}`)
    expect((await browser.get(`/customer/payments/${payment.id}`)).text).toContain(`/receipts/${payment.id}`)
  })
})
