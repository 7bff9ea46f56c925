import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { checkLedger, getWallet } from '#db/ledger.ts'
import { decidePayment } from '#db/payments.ts'
import { creditWatchStatusQuery } from '#temporal/messages.ts'
import { creditWatchWorkflowId } from '#temporal/workflow-ids.ts'
import { createFormatters } from '../../../web/app/i18n/index.ts'
import { idFrom, orderKey, pngReceipt, postMultipart, startShopWorld, waitFor, type ShopWorld } from './world.ts'

let w: ShopWorld
beforeAll(async () => {
  w = await startShopWorld('shop_credit')
})
afterAll(async () => {
  await w?.close()
})

const en = createFormatters('en', 'IRT')

async function topUp(browser: Awaited<ReturnType<ShopWorld['signIn']>>['browser'], amount: string) {
  const response = await postMultipart(browser, `/agent/wallet?method=${w.cardMethodId}`, { methodId: String(w.cardMethodId), amount, intent: 'top-up' }, { receipt: { bytes: pngReceipt(amount), name: 'receipt.png', type: 'image/png' } })
  expect(response.status, response.text.slice(0, 500)).toBe(302)
  return idFrom(response.location, '/agent/payments/')
}

async function createUser(browser: Awaited<ReturnType<ShopWorld['signIn']>>['browser'], key = orderKey()) {
  return browser.post('/agent/users/new', { planId: String(w.h.planId), locationId: String(w.h.locationId), label: 'Ali', note: 'shop customer', orderKey: key, intent: 'create' })
}

async function delivered(orderId: number) {
  return waitFor(`order ${orderId} delivered`, async () => {
    const row = await w.h.db('orders').where({ id: orderId }).first('status')
    return row?.status === 'delivered' ? row : undefined
  })
}

describe('agent credit by receipt', () => {
  test('an agent tops up by receipt, sells on the pending credit, goes negative when the receipt is rejected and is refused new orders', async () => {
    const { browser, user } = await w.signIn('agent')

    const wallet = await browser.get(`/agent/wallet?method=${w.cardMethodId}`)
    expect(wallet.status).toBe(200)
    expect(wallet.text).toContain('6037991234567890')

    const paymentId = await topUp(browser, '200000')
    // The receipt's amount is pending credit as soon as its workflow starts, before any admin looks at it.
    const pending = await waitFor('pending credit', async () => {
      const v = await getWallet(w.h.db, user.id)
      return v.pending === 200000n ? v : undefined
    })
    expect(pending).toMatchObject({ confirmed: 0n, pending: 200000n, usable: 200000n })
    const paymentPage = await browser.get(`/agent/payments/${paymentId}`)
    expect(paymentPage.text).toContain('Waiting for approval')

    const created = await createUser(browser)
    expect(created.status, created.text.slice(0, 500)).toBe(302)
    const orderId = idFrom(created.location, '/agent/orders/')
    await delivered(orderId)
    expect(await getWallet(w.h.db, user.id)).toMatchObject({ confirmed: -120000n, pending: 200000n, usable: 80000n })
    const status = await browser.request('GET', `/status/order/${orderId}`, { headers: { Accept: 'application/json' } })
    expect(JSON.parse(status.text)).toMatchObject({ kind: 'order', id: orderId, step: 'delivered', final: true })
    expect(JSON.parse(status.text).subscriptionUrl).toMatch(/\/sub\//)
    const account = await w.h.db('accounts').where({ orderId }).first()
    const usersPage = await browser.get('/agent/users')
    expect(usersPage.text).toContain(account.panelUsername)
    expect(usersPage.text).toContain('Ali')

    const decision = await decidePayment(w.h.client, paymentId, { decision: 'reject', adminId: w.h.adminId, note: 'no such transfer' })
    expect(decision.ok).toBe(true)
    const negative = await getWallet(w.h.db, user.id)
    expect(negative).toMatchObject({ confirmed: -120000n, pending: 0n, usable: -120000n })

    // The banner gives the exact time the 24-hour rule fires: the credit watch's own deadline.
    const watch = await waitFor('credit watch', async () => {
      try {
        const s = await w.h.client.workflow.getHandle(creditWatchWorkflowId(user.id)).query(creditWatchStatusQuery)
        return s.deadline ? s : undefined
      } catch {
        return undefined
      }
    })
    const dashboard = await browser.get('/agent')
    expect(dashboard.text).toContain('data-testid="negative-credit-banner"')
    expect(dashboard.text).toContain(`every active account of yours is disabled at ${en.dateTime(watch.deadline!)}`)
    expect(Math.abs(new Date(watch.deadline!).getTime() - (negative.negativeSince!.getTime() + w.env.NEGATIVE_CREDIT_GRACE))).toBeLessThan(60_000)

    const ordersBefore = await w.h.db('orders').where({ userId: user.id }).count({ n: '*' })
    const refused = await createUser(browser)
    expect(refused.status).toBe(409)
    expect(refused.text).toContain('New orders are blocked while your credit is negative')
    expect(refused.text).toContain('data-testid="order-refused"')
    expect(await w.h.db('orders').where({ userId: user.id }).count({ n: '*' })).toEqual(ordersBefore)
    expect((await checkLedger(w.h.db, user.id)).ok).toBe(true)
  })

  test('an approved receipt turns pending credit into confirmed credit and the sale stands', async () => {
    const { browser, user } = await w.signIn('agent')
    const paymentId = await topUp(browser, '300000')
    await waitFor('pending credit', async () => (await getWallet(w.h.db, user.id)).pending === 300000n)
    const created = await createUser(browser)
    expect(created.status).toBe(302)
    const orderId = idFrom(created.location, '/agent/orders/')
    await delivered(orderId)

    const decision = await decidePayment(w.h.client, paymentId, { decision: 'approve', adminId: w.h.adminId, note: null })
    expect(decision).toMatchObject({ ok: true, decided: { outcome: 'approved', balanceAfter: '180000' } })
    expect(await getWallet(w.h.db, user.id)).toMatchObject({ confirmed: 180000n, pending: 0n, usable: 180000n })
    const paymentStatus = await browser.request('GET', `/status/payment/${paymentId}`, { headers: { Accept: 'application/json' } })
    expect(JSON.parse(paymentStatus.text)).toMatchObject({ kind: 'payment', step: 'approved', final: true })
    const walletPage = await browser.get('/agent/wallet')
    for (const type of ['CHARGE_PENDING', 'ORDER_DEBIT', 'CHARGE_APPROVED']) expect(walletPage.text).toContain(`data-type="${type}"`)
    expect((await browser.get('/agent')).text).not.toContain('negative-credit-banner')
    expect((await checkLedger(w.h.db, user.id)).ok).toBe(true)
  })

  test('the same create form sent twice makes one order, and bad input changes nothing', async () => {
    const { browser, user } = await w.signIn('agent')
    await topUp(browser, '150000')
    await waitFor('pending credit', async () => (await getWallet(w.h.db, user.id)).pending === 150000n)
    const key = orderKey()
    const [first, second] = await Promise.all([createUser(browser, key), createUser(browser, key)])
    expect([first.status, second.status]).toEqual([302, 302])
    expect(first.location).toBe(second.location)
    expect(await w.h.db('orders').where({ userId: user.id })).toHaveLength(1)
    await delivered(idFrom(first.location, '/agent/orders/'))

    const bad = await browser.post('/agent/users/new', { planId: 'x', locationId: String(w.h.locationId), orderKey: orderKey(), intent: 'create' })
    expect(bad.status).toBe(400)
    const foreign = await w.h.db('locations').insert({ code: 'nowhere', nameFa: 'هیچ‌جا', nameEn: 'Nowhere' }).returning('id')
    const wrongPlace = await browser.post('/agent/users/new', { planId: String(w.h.planId), locationId: String(foreign[0].id), orderKey: orderKey(), intent: 'create' })
    expect(wrongPlace.status).toBe(400)
    expect(wrongPlace.text).toContain('This plan is not sold in that location')
    const noReceipt = await postMultipart(browser, '/agent/wallet', { methodId: String(w.cardMethodId), amount: '1000', intent: 'top-up' }, { receipt: { bytes: Buffer.from('not an image'), name: 'x.png', type: 'image/png' } })
    expect(noReceipt.status).toBe(400)
    expect(noReceipt.text).toContain('The receipt must be a photo')
    expect(await w.h.db('orders').where({ userId: user.id })).toHaveLength(1)
    expect(await w.h.db('payments').where({ userId: user.id })).toHaveLength(1)
  })

  test('pages and statuses of one agent are not visible to another', async () => {
    const owner = await w.signIn('agent')
    await topUp(owner.browser, '130000')
    await waitFor('pending credit', async () => (await getWallet(w.h.db, owner.user.id)).pending === 130000n)
    const created = await createUser(owner.browser)
    const orderId = idFrom(created.location, '/agent/orders/')
    await delivered(orderId)
    const accountId = (await w.h.db('accounts').where({ orderId }).first('id')).id

    const other = await w.signIn('agent')
    expect((await other.browser.get(`/agent/orders/${orderId}`)).status).toBe(404)
    expect((await other.browser.get(`/agent/users/${accountId}`)).status).toBe(404)
    expect((await other.browser.request('GET', `/status/order/${orderId}`, { headers: { Accept: 'application/json' } })).status).toBe(404)
    const customer = await w.signIn('customer')
    expect((await customer.browser.get('/agent/wallet')).status).toBe(403)
  })
})
