import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { checkLedger } from '#db/ledger.ts'
import { adjustWallet } from '#db/payments.ts'
import { startShopWorld, waitFor, type ShopWorld } from '#tests/integration/web-agent/world.ts'

let w: ShopWorld
beforeAll(async () => {
  w = await startShopWorld('shop_api')
})
afterAll(async () => {
  await w?.close()
})

interface Agent {
  id: number
  token: string
  call(method: string, path: string, options?: { body?: unknown; key?: string; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; json: any }>
}

/** An agent with credit and an API token made on the settings page, as an agent would. */
async function agentWithToken(credit = '1000000'): Promise<Agent> {
  const { browser, user } = await w.signIn('agent')
  if (credit !== '0') await adjustWallet(w.h.db, w.h.client, { userId: user.id, amount: credit, note: 'test credit', actorUserId: w.h.adminId })
  const page = await browser.post('/agent/api-tokens', { intent: 'create', name: 'my shop' })
  expect(page.status).toBe(200)
  const token = /data-testid="new-token">([^<]+)</.exec(page.text)![1]!
  return {
    id: user.id,
    token,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { Authorization: `Bearer ${token}`, ...options.headers }
      if (options.key) headers['Idempotency-Key'] = options.key
      if (options.body !== undefined) headers['Content-Type'] = 'application/json'
      const response = await fetch(`${w.url}/api/v1${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) })
      const text = await response.text()
      let json: any
      try {
        json = JSON.parse(text)
      } catch {
        throw new Error(`${method} ${path} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`)
      }
      return { status: response.status, headers: response.headers, json }
    },
  }
}

const newOrder = () => ({ planId: w.h.planId, locationId: w.h.locationId, label: 'customer 7' })

async function deliveredOrder(agent: Agent, orderId: number) {
  return waitFor(`order ${orderId} delivered`, async () => {
    const r = await agent.call('GET', `/orders/${orderId}`)
    return r.json.order?.status === 'delivered' ? r.json.order : undefined
  })
}

describe('reseller API', () => {
  test('tokens are stored as hashes only, and requests without a valid token get a JSON 401', async () => {
    const agent = await agentWithToken('0')
    expect(agent.token).toMatch(/^fpk_[A-Za-z0-9_-]{43}$/)
    const rows = await w.h.db('apiTokens').where({ userId: agent.id })
    expect(rows).toHaveLength(1)
    expect(JSON.stringify(rows)).not.toContain(agent.token)
    expect(JSON.stringify(rows)).not.toContain(agent.token.slice(10))
    expect(rows[0].tokenHash).toMatch(/^[0-9a-f]{64}$/)

    const anonymous = await fetch(`${w.url}/api/v1/plans`)
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('www-authenticate')).toContain('Bearer')
    expect(await anonymous.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } })
    const wrong = await fetch(`${w.url}/api/v1/plans`, { headers: { Authorization: `Bearer ${agent.token}x` } })
    expect(wrong.status).toBe(401)
    expect((await wrong.json()).error.code).toBe('INVALID_TOKEN')
    expect((await agent.call('GET', '/nope')).json.error.code).toBe('NOT_FOUND')
    expect((await agent.call('PUT', '/plans')).status).toBe(405)
  })

  test('lists plans at the agent price', async () => {
    const agent = await agentWithToken('0')
    const { status, json } = await agent.call('GET', '/plans')
    expect(status).toBe(200)
    expect(json.plans).toEqual([
      expect.objectContaining({ id: w.h.planId, name: { fa: 'یک ماهه', en: 'One month' }, days: 30, price: '120000', locations: [expect.objectContaining({ id: w.h.locationId })] }),
    ])
  })

  test('creating an order twice with the same Idempotency-Key makes one order and one debit', async () => {
    const agent = await agentWithToken()
    expect((await agent.call('POST', '/orders', { body: newOrder() })).json.error.code).toBe('IDEMPOTENCY_KEY_REQUIRED')

    const first = await agent.call('POST', '/orders', { body: newOrder(), key: 'order-0001' })
    expect(first.status).toBe(201)
    expect(first.headers.get('idempotency-replayed')).toBe('false')
    expect(first.json.order).toMatchObject({ kind: 'new', planId: w.h.planId, price: '120000', label: 'customer 7' })
    const second = await agent.call('POST', '/orders', { body: newOrder(), key: 'order-0001' })
    expect(second.status).toBe(200)
    expect(second.headers.get('idempotency-replayed')).toBe('true')
    expect(second.json.order.id).toBe(first.json.order.id)
    // Two more at the same moment with a new key: still one order for that key.
    const racing = await Promise.all([agent.call('POST', '/orders', { body: newOrder(), key: 'order-0002' }), agent.call('POST', '/orders', { body: newOrder(), key: 'order-0002' })])
    expect(racing.map((r) => r.status).sort()).toEqual([200, 201])
    expect(racing[0]!.json.order.id).toBe(racing[1]!.json.order.id)

    const reused = await agent.call('POST', '/orders', { body: { ...newOrder(), planId: w.h.planId + 1000 }, key: 'order-0001' })
    expect(reused.status).toBe(409)
    expect(reused.json.error.code).toBe('IDEMPOTENCY_KEY_REUSED')

    expect(await w.h.db('orders').where({ userId: agent.id })).toHaveLength(2)
    const order = await deliveredOrder(agent, first.json.order.id)
    expect(order).toMatchObject({ status: 'delivered', step: 'delivered', accountId: expect.any(Number) })
    expect(order.subscriptionUrl).toMatch(/\/sub\//)
    await deliveredOrder(agent, racing[0]!.json.order.id)
    const debits = await w.h.db('ledgerEntries').where({ walletUserId: agent.id, type: 'ORDER_DEBIT' })
    expect(debits).toHaveLength(2)
  })

  test('the same Idempotency-Key with another label or note is refused with 409 and places nothing', async () => {
    const agent = await agentWithToken()
    const first = await agent.call('POST', '/orders', { body: { ...newOrder(), note: 'for Sara' }, key: 'same-key' })
    expect(first.status).toBe(201)
    for (const body of [{ ...newOrder(), label: 'customer 8', note: 'for Sara' }, { ...newOrder(), note: 'for Reza' }, newOrder()]) {
      const reused = await agent.call('POST', '/orders', { body, key: 'same-key' })
      expect(reused.status, JSON.stringify(body)).toBe(409)
      expect(reused.json.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', details: { orderId: first.json.order.id } })
    }
    expect((await agent.call('POST', '/orders', { body: { ...newOrder(), note: 'for Sara' }, key: 'same-key' })).status).toBe(200)
    expect(await w.h.db('orders').where({ userId: agent.id })).toHaveLength(1)
    await deliveredOrder(agent, first.json.order.id)
  })

  test('200 parallel orders on credit for 100: 100 are placed, 100 refused with 402 at once, and the ledger stays exact', async () => {
    const { browser, user } = await w.signIn('agent')
    await adjustWallet(w.h.db, w.h.client, { userId: user.id, amount: String(120_000 * 100), note: 'credit for 100 orders', actorUserId: w.h.adminId })
    // Two tokens of the same agent: 100 requests each stay under the per-token rate limit.
    const tokens: string[] = []
    for (const name of ['shop a', 'shop b']) {
      const page = await browser.post('/agent/api-tokens', { intent: 'create', name })
      tokens.push(/data-testid="new-token">([^<]+)</.exec(page.text)![1]!)
    }
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const response = await fetch(`${w.url}/api/v1/orders`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${tokens[i % 2]}`, 'Idempotency-Key': `parallel-${i}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(newOrder()),
        })
        return { status: response.status, json: (await response.json()) as { error?: { code: string; message: string } } }
      }),
    )
    const count = (status: number) => results.filter((r) => r.status === status).length
    expect({ placed: count(201), refused: count(402) }).toEqual({ placed: 100, refused: 100 })
    for (const r of results.filter((x) => x.status === 402)) expect(r.json.error).toMatchObject({ code: 'INSUFFICIENT_CREDIT', message: expect.stringContaining('Not enough credit') })

    const orders = await w.h.db('orders').where({ userId: user.id })
    expect(orders).toHaveLength(100)
    await waitFor('every placed order delivered', async () => (await w.h.db('orders').where({ userId: user.id }).whereNot({ status: 'delivered' }).first('id')) === undefined, 150_000)
    const debits = await w.h.db('ledgerEntries').where({ walletUserId: user.id, type: 'ORDER_DEBIT' })
    expect(debits).toHaveLength(100)
    expect(new Set(debits.map((d) => d.referenceId)).size).toBe(100)
    expect(await w.h.db('wallets').where({ userId: user.id }).first('confirmed', 'pending')).toEqual({ confirmed: '0', pending: '0' })
    expect(await checkLedger(w.h.db, user.id)).toMatchObject({ ok: true, problems: [] })
  }, 200_000)

  test('bad input gets field errors and places nothing', async () => {
    const agent = await agentWithToken()
    const invalid = await agent.call('POST', '/orders', { body: { planId: 'one', locationId: -1, extra: true }, key: 'bad-1' })
    expect(invalid.status).toBe(422)
    expect(invalid.json.error.code).toBe('INVALID_INPUT')
    expect(invalid.json.error.details.fields.map((f: { field: string }) => f.field)).toEqual(expect.arrayContaining(['planId', 'locationId']))
    const notJson = await fetch(`${w.url}/api/v1/orders`, { method: 'POST', headers: { Authorization: `Bearer ${agent.token}`, 'Idempotency-Key': 'bad-2', 'Content-Type': 'application/json' }, body: '{"planId":' })
    expect(notJson.status).toBe(400)
    expect((await notJson.json()).error.code).toBe('INVALID_JSON')
    const noPlan = await agent.call('POST', '/orders', { body: { planId: 999999, locationId: w.h.locationId }, key: 'bad-3' })
    expect(noPlan.status).toBe(422)
    expect(noPlan.json.error.code).toBe('PLAN_NOT_FOUND')
    const badKey = await agent.call('POST', '/orders', { body: newOrder(), key: 'has space' })
    expect(badKey.json.error.code).toBe('INVALID_IDEMPOTENCY_KEY')
    expect(await w.h.db('orders').where({ userId: agent.id })).toHaveLength(0)

    const broke = await agentWithToken('0')
    const poor = await broke.call('POST', '/orders', { body: newOrder(), key: 'poor-1' })
    expect(poor.status).toBe(402)
    expect(poor.json.error).toMatchObject({ code: 'INSUFFICIENT_CREDIT', message: expect.stringContaining('Not enough credit') })
    await adjustWallet(w.h.db, w.h.client, { userId: broke.id, amount: '-5000', note: 'debt', actorUserId: w.h.adminId })
    const negative = await broke.call('POST', '/orders', { body: newOrder(), key: 'poor-2' })
    expect(negative.status).toBe(409)
    expect(negative.json.error).toMatchObject({ code: 'NEGATIVE_CREDIT', message: expect.stringContaining('credit is negative') })
    expect(await w.h.db('orders').where({ userId: broke.id })).toHaveLength(0)
  })

  test('lists and gets accounts, renews one, quotes and deletes it with a refund; another agent sees none of it', async () => {
    const agent = await agentWithToken()
    const created = await agent.call('POST', '/orders', { body: newOrder(), key: 'acc-1' })
    const order = await deliveredOrder(agent, created.json.order.id)

    const list = await agent.call('GET', '/accounts')
    expect(list.json.accounts).toEqual([expect.objectContaining({ id: order.accountId, status: 'active', label: 'customer 7', subscriptionUrl: order.subscriptionUrl, locationId: w.h.locationId })])
    const one = await agent.call('GET', `/accounts/${order.accountId}`)
    expect(one.json.account.id).toBe(order.accountId)
    const expiresBefore = new Date(one.json.account.expiresAt).getTime()

    const renewal = await agent.call('POST', `/accounts/${order.accountId}/renew`, { key: 'renew-1' })
    expect(renewal.status).toBe(201)
    expect(renewal.json.order).toMatchObject({ kind: 'renew', accountId: order.accountId })
    expect((await agent.call('POST', `/accounts/${order.accountId}/renew`, { key: 'renew-1' })).status).toBe(200)
    await deliveredOrder(agent, renewal.json.order.id)
    const renewed = await agent.call('GET', `/accounts/${order.accountId}`)
    expect(new Date(renewed.json.account.expiresAt).getTime() - expiresBefore).toBeGreaterThanOrEqual(30 * 86_400_000 - 60_000)

    const other = await agentWithToken('0')
    expect((await other.call('GET', `/accounts/${order.accountId}`)).status).toBe(404)
    expect((await other.call('GET', `/orders/${order.id}`)).status).toBe(404)
    expect((await other.call('DELETE', `/accounts/${order.accountId}`)).status).toBe(404)
    expect((await other.call('GET', '/accounts')).json.accounts).toEqual([])

    const quote = await agent.call('GET', `/accounts/${order.accountId}/refund-quote`)
    expect(quote.json.quote).toMatchObject({ accountId: order.accountId, paid: '240000', rule: 'full_window', amount: '240000' })
    const deleted = await agent.call('DELETE', `/accounts/${order.accountId}`, { body: { reason: 'customer left' } })
    expect(deleted.status).toBe(202)
    expect(deleted.json.refund).toMatchObject({ accountId: order.accountId, amount: '240000', workflowId: `refund-${order.accountId}` })
    await waitFor('account deleted', async () => (await agent.call('GET', `/accounts/${order.accountId}`)).json.account?.status === 'deleted')
    const refunds = await w.h.db('ledgerEntries').where({ walletUserId: agent.id, type: 'ORDER_REFUND' })
    expect(refunds.reduce((sum, e) => sum + BigInt(e.confirmedDelta), 0n)).toBe(240000n)
    const again = await agent.call('DELETE', `/accounts/${order.accountId}`)
    expect(again.status).toBe(409)
    expect(again.json.error.code).toBe('ALREADY_DELETED')
    expect((await agent.call('GET', '/accounts')).json.accounts).toEqual([])
    expect((await agent.call('GET', '/accounts?status=deleted')).json.accounts).toHaveLength(1)
  })

  test('text the database would refuse is refused at the API with 422 before anything happens (a NUL in a refund reason, a label, a note)', async () => {
    const agent = await agentWithToken()
    const created = await agent.call('POST', '/orders', { body: newOrder(), key: 'nul-1' })
    const order = await deliveredOrder(agent, created.json.order.id)
    const refused = await agent.call('DELETE', `/accounts/${order.accountId}`, { body: { reason: 'a\u0000b' } })
    expect(refused.status).toBe(422)
    expect(refused.json.error).toMatchObject({ code: 'INVALID_INPUT', details: { fields: [{ field: 'reason', message: expect.stringContaining('control characters') }] } })
    await expect(w.h.client.workflow.getHandle(`refund-${order.accountId}`).describe()).rejects.toThrow()
    expect((await agent.call('GET', `/accounts/${order.accountId}`)).json.account.status).toBe('active')
    expect(await w.h.db('ledgerEntries').where({ walletUserId: agent.id, type: 'ORDER_REFUND' })).toHaveLength(0)

    for (const body of [{ ...newOrder(), label: 'a\u0000b' }, { ...newOrder(), label: 'shop\u202egpj' }, { ...newOrder(), note: 'x\u0007' }, { ...newOrder(), planId: 2_147_483_648 }]) {
      const bad = await agent.call('POST', '/orders', { body, key: `nul-${JSON.stringify(body).length}-${Object.values(body).join('').length}` })
      expect(bad.status, JSON.stringify(body)).toBe(422)
      expect(bad.json.error.code).toBe('INVALID_INPUT')
    }
    expect(await w.h.db('orders').where({ userId: agent.id })).toHaveLength(1)
    for (const path of ['/accounts/2147483648', '/orders/1.5', '/accounts/%E0%A4%A', '/orders/%ZZ']) {
      const r = await fetch(`${w.url}/api/v1${path}`, { headers: { Authorization: `Bearer ${agent.token}` } })
      expect(r.status, path).toBe(404)
      expect(await r.json(), path).toMatchObject({ error: { code: 'NOT_FOUND' } })
    }
  })

  test('a revoked token stops working at once', async () => {
    const { browser, user } = await w.signIn('agent')
    const made = await browser.post('/agent/api-tokens', { intent: 'create', name: 'old bot' })
    const token = /data-testid="new-token">([^<]+)</.exec(made.text)![1]!
    const call = () => fetch(`${w.url}/api/v1/plans`, { headers: { Authorization: `Bearer ${token}` } })
    expect((await call()).status).toBe(200)
    const row = await w.h.db('apiTokens').where({ userId: user.id }).first()
    expect(row.lastUsedAt).not.toBeNull()
    const revoked = await browser.post('/agent/api-tokens', { intent: 'revoke', tokenId: String(row.id) })
    expect(revoked.status).toBe(200)
    expect((await call()).status).toBe(401)
    // Another agent cannot revoke someone else's token.
    const other = await w.signIn('agent')
    expect((await other.browser.post('/agent/api-tokens', { intent: 'revoke', tokenId: String(row.id) })).status).toBe(404)
  })

  test('serves an OpenAPI 3 document that describes every endpoint and whose references all resolve', async () => {
    const response = await fetch(`${w.url}/api/v1/openapi.json`)
    expect(response.status).toBe(200)
    const doc = await response.json()
    expect(doc.openapi).toMatch(/^3\./)
    expect(doc.servers[0].url).toBe(`${w.url}/api/v1`)
    expect(Object.keys(doc.paths).sort()).toEqual(['/accounts', '/accounts/{id}', '/accounts/{id}/refund-quote', '/accounts/{id}/renew', '/orders', '/orders/{id}', '/plans'])
    const refs: string[] = []
    const walk = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(walk)
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref' && typeof v === 'string') refs.push(v)
          else walk(v)
        }
      }
    }
    walk(doc)
    expect(refs.length).toBeGreaterThan(20)
    for (const ref of refs) {
      const target = ref.replace(/^#\//, '').split('/').reduce<any>((node, key) => node?.[key], doc)
      expect(target, ref).toBeDefined()
    }
    for (const [path, methods] of Object.entries<Record<string, { operationId: string; responses: object }>>(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        expect(op.operationId, `${method} ${path}`).toBeTruthy()
        expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0)
      }
    }
  })
})
