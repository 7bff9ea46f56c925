import type { Update, UserFromGetMe } from 'grammy/types'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { publish } from '#activities/notifications.ts'
import { createBot } from '../../../bot/index.ts'
import { createLogger } from '../../../bot/logger.ts'
import { createUpdateDispatcher } from '../../../bot/runtime.ts'
import { makeUser, PASSWORD, startTestWeb, TestBrowser, type TestWeb } from './harness.ts'
import { seedAccount, seedLocation, seedPanel, seedPlan } from './seed.ts'

/**
 * Two installations on one Redis server: each has its own database, nothing sets REDIS_PREFIX, and neither may see
 * the other's statuses, rate limits or bot updates. Installation A's worker is stood in for by the activity's own
 * `publish`, exactly what A's order and refund workflows call.
 */
let a: TestWeb
let b: TestWeb
const A_LINK = 'https://a.example/sub/a-secret-token'

interface Install {
  web: TestWeb
  customer: TestBrowser
  orderId: number
  accountId: number
}
let installA: Install
let installB: Install

async function install(web: TestWeb, username: string): Promise<Install> {
  const user = await makeUser(web.db, 'customer', username)
  const locationId = await seedLocation(web.db)
  const planId = await seedPlan(web.db)
  const panelId = await seedPanel(web.db, web.env.APP_SECRET, locationId)
  // Order #1 waits for its panel; the account belongs to a second, delivered order.
  const [order] = await web.db('orders').insert({ userId: user.id, planId, locationId, price: '150000', status: 'provisioning' }).returning('id')
  const { accountId } = await seedAccount(web.db, { userId: user.id, planId, panelId, locationId })
  const customer = new TestBrowser(web.url, '10.9.9.9')
  const response = await customer.login(username, PASSWORD)
  expect(response.status).toBe(302)
  return { web, customer, orderId: order.id, accountId }
}

beforeAll(async () => {
  ;[a, b] = await Promise.all([startTestWeb({ label: 'iso_a' }), startTestWeb({ label: 'iso_b' })])
  expect(a.env.REDIS_URL).toBe(b.env.REDIS_URL)
  expect(a.env.REDIS_PREFIX).not.toBe(b.env.REDIS_PREFIX)
  ;[installA, installB] = await Promise.all([install(a, 'shopper'), install(b, 'shopper')])
  expect([installA.orderId, installB.orderId]).toEqual([1, 1])
  expect(installB.accountId).toBe(installA.accountId)
})

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()])
})

async function status(target: Install, path: string): Promise<Record<string, unknown>> {
  const response = await target.customer.get(path)
  expect(response.status).toBe(200)
  return JSON.parse(response.text) as Record<string, unknown>
}

/** Reads `status` events of an SSE stream until `until` says stop. */
async function streamEvents(target: Install, path: string, until: (events: Record<string, unknown>[]) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>[]> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), timeoutMs)
  const events: Record<string, unknown>[] = []
  try {
    const cookie = [...target.customer.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    const response = await fetch(new URL(path, target.web.url), { headers: { Accept: 'text/event-stream', Cookie: cookie }, signal: controller.signal })
    expect(response.status).toBe(200)
    const reader = response.body!.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    while (!until(events)) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += decoder.decode(value, { stream: true })
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (/^event: status$/m.test(block) && data) events.push(JSON.parse(data) as Record<string, unknown>)
      }
    }
    await reader.cancel()
  } finally {
    clearTimeout(timer)
  }
  return events
}

const orderDelivered = (orderId: number, subscriptionUrl: string) => ({ orderId, step: 'delivered', attempt: 1, lastError: null, accountId: 7, subscriptionUrl, paymentId: null })
const orderRetrying = (orderId: number, lastError: string) => ({ orderId, step: 'provisioning', attempt: 2, lastError, accountId: null, subscriptionUrl: null, paymentId: null })

describe('two installations sharing one Redis', () => {
  test("order #1 of one installation never shows the other's subscription link", async () => {
    await publish(a, 'order-1', orderDelivered(1, A_LINK))
    // A's own customer sees it (the stand-in worker and the page agree on the key)...
    expect(await status(installA, '/status/order/1')).toMatchObject({ step: 'delivered', subscriptionUrl: A_LINK })
    // ...B's customer, whose order #1 is still provisioning, does not.
    const seenByB = await status(installB, '/status/order/1')
    expect(seenByB).toMatchObject({ step: 'provisioning', subscriptionUrl: null })
    expect(JSON.stringify(seenByB)).not.toContain('a-secret-token')
  })

  test("a refund published by one installation is not a refund of the other's account", async () => {
    const accountId = installA.accountId
    await publish(a, `refund-${accountId}`, { accountId, step: 'done', lastError: null, amount: '90000' })
    expect(await status(installA, `/status/refund/${accountId}`)).toMatchObject({ step: 'done', amount: '90000' })
    expect(await status(installB, `/status/refund/${accountId}`)).toMatchObject({ step: 'quoting', amount: null, final: false })
    // The account pages show a refund in progress from the same published status.
    const pageA = await installA.customer.data(`/customer/accounts/${accountId}`)
    const pageB = await installB.customer.data(`/customer/accounts/${accountId}`)
    expect([pageA.status, pageB.status]).toEqual([200, 200])
    expect(pageA.text).toContain('"90000"')
    expect(pageB.text).not.toContain('"90000"')
  })

  test("a live stream hears its own installation's channel only", async () => {
    await Promise.all([publish(a, 'order-1', orderRetrying(1, 'a: first try failed')), publish(b, 'order-1', orderRetrying(1, 'b: first try failed'))])
    const heardByA = streamEvents(installA, '/status/order/1', (events) => events.some((e) => e.lastError === 'a: panel busy'))
    const heardByB = streamEvents(installB, '/status/order/1', (events) => events.some((e) => e.lastError === 'b: panel busy'))
    // Both streams send their first state once they have subscribed; give them a moment to do so.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    await publish(a, 'order-1', orderRetrying(1, 'a: panel busy'))
    expect((await heardByA).map((e) => e.lastError)).toEqual(['a: first try failed', 'a: panel busy'])
    // Published after A's message: had B heard A's channel, A's status would have reached it first.
    await publish(b, 'order-1', orderRetrying(1, 'b: panel busy'))
    expect((await heardByB).map((e) => e.lastError)).toEqual(['b: first try failed', 'b: panel busy'])
  })

  test("sign-in failures on one installation do not lock the same username out of the other", async () => {
    const ip = '10.77.0.1'
    await makeUser(a.db, 'customer', 'same_name')
    await makeUser(b.db, 'customer', 'same_name')
    const onA = new TestBrowser(a.url, ip)
    for (let i = 0; i < 5; i++) expect((await onA.login('same_name', 'wrong password')).status).toBe(400)
    expect((await onA.login('same_name', PASSWORD)).status).toBe(429)
    const onB = new TestBrowser(b.url, ip)
    expect((await onB.login('same_name', PASSWORD)).status).toBe(302)
  })

  test("the same bot's update is handled once by each installation, not once in all", async () => {
    const botInfo = { id: 4242, is_bot: true, first_name: 'shop', username: 'shop_bot', can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false } as UserFromGetMe
    const logger = createLogger({ level: 'error', write: () => {} })
    const handled: string[] = []
    for (const [name, web] of [['a', a], ['b', b]] as const) {
      const bot = createBot('4242:token', { env: web.env, db: web.db, redis: web.redis, temporal: { getClient: () => Promise.reject(new Error('not needed')) }, logger }, { botInfo })
      expect(bot.deps.settings.redisPrefix.startsWith(`${web.env.REDIS_PREFIX}:`)).toBe(true)
      bot.handleUpdate = async () => {
        handled.push(name)
      }
      const dispatcher = createUpdateDispatcher(bot, { redis: web.redis, redisPrefix: bot.deps.settings.redisPrefix, logger })
      const update = { update_id: 77 } as Update
      await dispatcher.dispatch(update)
      // A redelivery within one installation is still dropped.
      await dispatcher.dispatch(update)
    }
    expect(handled).toEqual(['a', 'b'])
  })
})
