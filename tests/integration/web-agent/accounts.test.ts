import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { checkLedger, getWallet } from '#db/ledger.ts'
import { adjustWallet } from '#db/payments.ts'
import { idFrom, orderKey, startShopWorld, waitFor, type ShopWorld } from './world.ts'

let w: ShopWorld
beforeAll(async () => {
  w = await startShopWorld('shop_accounts')
})
afterAll(async () => {
  await w?.close()
})

type Browser = Awaited<ReturnType<ShopWorld['signIn']>>['browser']

async function agentWithCredit(amount: string) {
  const signed = await w.signIn('agent')
  if (amount !== '0') await adjustWallet(w.h.db, w.h.client, { userId: signed.user.id, amount, note: 'test credit', actorUserId: w.h.adminId })
  return signed
}

async function deliveredAccount(browser: Browser): Promise<{ orderId: number; accountId: number }> {
  const created = await browser.post('/agent/users/new', { planId: String(w.h.planId), locationId: String(w.h.locationId), orderKey: orderKey(), intent: 'create' })
  const orderId = idFrom(created.location, '/agent/orders/')
  const row = await waitFor(`order ${orderId} delivered`, async () => {
    const o = await w.h.db('orders').where({ id: orderId }).first('status', 'accountId')
    return o?.status === 'delivered' ? o : undefined
  })
  return { orderId, accountId: row.accountId }
}

async function delivered(orderId: number) {
  await waitFor(`order ${orderId} delivered`, async () => (await w.h.db('orders').where({ id: orderId }).first('status'))?.status === 'delivered')
}

describe('agent accounts', () => {
  test('the account page shows usage, days left, the link and its QR code, and renews with a plan', async () => {
    const { browser, user } = await agentWithCredit('500000')
    const { accountId } = await deliveredAccount(browser)
    const account = await w.h.db('accounts').where({ id: accountId }).first()
    await w.h.db('accounts').where({ id: accountId }).update({ dataUsedBytes: String(5 * 1024 ** 3) })

    const page = await browser.get(`/agent/users/${accountId}`)
    expect(page.status).toBe(200)
    expect(page.text).toContain('30 days left')
    expect(page.text).toContain('role="meter"')
    expect(page.text).toContain('aria-valuenow="10"')
    expect(page.text).toContain(account.subscriptionUrl.replaceAll('&', '&amp;'))
    expect(page.text).toContain('data:image/svg+xml;base64,')

    const renew = await browser.post(`/agent/users/${accountId}`, { intent: 'renew', planId: String(w.h.planId), orderKey: orderKey() })
    expect(renew.status).toBe(302)
    const renewalId = idFrom(renew.location, '/agent/orders/')
    await delivered(renewalId)
    const after = await w.h.db('accounts').where({ id: accountId }).first()
    expect(new Date(after.expiresAt).getTime() - new Date(account.expiresAt).getTime()).toBeGreaterThanOrEqual(30 * 86_400_000 - 60_000)
    expect(await getWallet(w.h.db, user.id)).toMatchObject({ usable: 260000n })
  })

  test('deleting shows the refund quote first; confirming refunds it and the account page follows the refund', async () => {
    const { browser, user } = await agentWithCredit('120000')
    const { accountId } = await deliveredAccount(browser)
    expect((await getWallet(w.h.db, user.id)).usable).toBe(0n)

    const confirm = await browser.get(`/agent/users/${accountId}/delete`)
    expect(confirm.status).toBe(200)
    expect(confirm.text).toContain('data-testid="refund-quote"')
    expect(confirm.text).toContain('Deleting refunds 120,000')
    // Nothing happens until the form is confirmed with a reason.
    expect((await w.h.db('accounts').where({ id: accountId }).first()).status).toBe('active')
    const noReason = await browser.post(`/agent/users/${accountId}/delete`, { confirm: 'yes', reason: '', intent: 'delete' })
    expect(noReason.status).toBe(400)
    expect((await w.h.db('accounts').where({ id: accountId }).first()).status).toBe('active')

    const done = await browser.post(`/agent/users/${accountId}/delete`, { confirm: 'yes', reason: 'customer left', intent: 'delete' })
    expect(done.status).toBe(302)
    expect(done.location).toBe(`/agent/users/${accountId}`)
    await waitFor('account deleted', async () => (await w.h.db('accounts').where({ id: accountId }).first()).status === 'deleted')
    expect((await getWallet(w.h.db, user.id)).usable).toBe(120000n)
    const page = await browser.get(`/agent/users/${accountId}`)
    expect(page.text).toContain('data-kind="refund"')
    expect(page.text).toContain('data-step="done"')
    expect((await browser.request('GET', `/status/refund/${accountId}`, { headers: { Accept: 'application/json' } })).text).toContain('"final":true')
    // A second confirmation refunds nothing more.
    await browser.post(`/agent/users/${accountId}/delete`, { confirm: 'yes', reason: 'again', intent: 'delete' })
    expect((await getWallet(w.h.db, user.id)).usable).toBe(120000n)
    expect((await checkLedger(w.h.db, user.id)).ok).toBe(true)
  })

  test('an agent whose profile forbids refunds sees why instead of a confirm button', async () => {
    const { browser, user } = await agentWithCredit('120000')
    const { accountId } = await deliveredAccount(browser)
    await w.h.db('agents').where({ userId: user.id }).update({ mayDeleteForRefund: false })
    const page = await browser.get(`/agent/users/${accountId}/delete`)
    expect(page.text).toContain('does not allow deleting accounts for a refund')
    expect(page.text).not.toContain('data-testid="confirm-delete"')
    const forced = await browser.post(`/agent/users/${accountId}/delete`, { confirm: 'yes', reason: 'try anyway', intent: 'delete' })
    expect(forced.status).toBe(403)
    expect((await w.h.db('accounts').where({ id: accountId }).first()).status).toBe('active')
  })

  test('bulk renewal renews each selected account once, and refuses a batch the credit cannot cover', async () => {
    const { browser, user } = await agentWithCredit('600000')
    const first = await deliveredAccount(browser)
    const second = await deliveredAccount(browser)
    const list = await browser.get('/agent/users')
    const bulkKey = /name="bulkKey" value="([^"]+)"/.exec(list.text)![1]!
    const fields = { intent: 'renew-selected', bulkKey, accountIds: [String(first.accountId), String(second.accountId)] }
    const [a, b] = await Promise.all([browser.post('/agent/users', fields), browser.post('/agent/users', fields)])
    expect([a.status, b.status]).toEqual([200, 200])
    expect(a.text).toContain('data-testid="bulk-result"')
    const renewals = await w.h.db('orders').where({ userId: user.id, kind: 'renew' })
    expect(renewals).toHaveLength(2)
    for (const r of renewals) await delivered(r.id)
    expect((await getWallet(w.h.db, user.id)).usable).toBe(600000n - 4n * 120000n)

    const tooMuch = await browser.post('/agent/users', { intent: 'renew-selected', bulkKey: crypto.randomUUID(), accountIds: [String(first.accountId), String(second.accountId)] })
    expect(tooMuch.status).toBe(409)
    expect(tooMuch.text).toMatch(/Renewing these costs 240,000[^<]* but only 120,000[^<]* is available/)
    expect(await w.h.db('orders').where({ userId: user.id, kind: 'renew' })).toHaveLength(2)
    const foreign = await agentWithCredit('0')
    expect((await foreign.browser.post('/agent/users', { intent: 'renew-selected', bulkKey: crypto.randomUUID(), accountIds: [String(first.accountId)] })).status).toBe(404)
  })
})
