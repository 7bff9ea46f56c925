import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { adjustWallet } from '#db/payments.ts'
import type { LiveStatus } from '../../../web/app/components/status-tracker.tsx'
import { idFrom, orderKey, startShopWorld, type ShopWorld } from './world.ts'

let w: ShopWorld
beforeAll(async () => {
  w = await startShopWorld('shop_live')
})
afterAll(async () => {
  await w?.close()
})

interface Stream {
  status: number
  events: LiveStatus[]
  /** Resolves when the server ends the stream. */
  ended: Promise<void>
  next(predicate: (s: LiveStatus) => boolean, timeoutMs?: number): Promise<LiveStatus>
  close(): void
}

/** Opens `/status/...` as an EventSource would and collects its `status` events. */
async function openStream(cookie: string, path: string): Promise<Stream> {
  const controller = new AbortController()
  const response = await fetch(`${w.url}${path}`, { headers: { Accept: 'text/event-stream', Cookie: cookie }, signal: controller.signal })
  const events: LiveStatus[] = []
  const waiters: (() => void)[] = []
  const ended = (async () => {
    if (!response.body) return
    const reader = response.body.getReader()
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        buffer += decoder.decode(value, { stream: true })
        let cut: number
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          const event = /^event: (.+)$/m.exec(block)?.[1]
          const data = /^data: (.+)$/m.exec(block)?.[1]
          if (event === 'status' && data) {
            events.push(JSON.parse(data) as LiveStatus)
            for (const wake of waiters.splice(0)) wake()
          }
        }
      }
    } catch {
      // Aborted by the test.
    } finally {
      for (const wake of waiters.splice(0)) wake()
    }
  })()
  return {
    status: response.status,
    events,
    ended,
    async next(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const found = events.find(predicate)
        if (found) return found
        if (Date.now() > deadline) throw new Error(`no matching status event; got ${events.map((e) => e.step).join(', ')}`)
        await Promise.race([new Promise<void>((r) => waiters.push(r)), new Promise((r) => setTimeout(r, 200))])
      }
    },
    close: () => controller.abort(),
  }
}

const cookieOf = (browser: { cookies: Map<string, string> }) => [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ')

describe('live status', () => {
  test('the order page follows the workflow step by step over server-sent events and a reopened page shows the same state', async () => {
    const { browser, user } = await w.signIn('agent')
    await adjustWallet(w.h.db, w.h.client, { userId: user.id, amount: '500000', note: 'test credit', actorUserId: w.h.adminId })
    // No worker: the order is queued and stays there until one runs.
    await w.h.stopWorker()
    const placed = await browser.post('/agent/users/new', { planId: String(w.h.planId), locationId: String(w.h.locationId), orderKey: orderKey(), intent: 'create' })
    const orderId = idFrom(placed.location, '/agent/orders/')

    const polled = await browser.request('GET', `/status/order/${orderId}`, { headers: { Accept: 'application/json' } })
    expect(polled.headers.get('cache-control')).toBe('no-store')
    expect(JSON.parse(polled.text)).toMatchObject({ kind: 'order', id: orderId, step: 'queued', final: false })
    const page = await browser.get(`/agent/orders/${orderId}`)
    expect(page.text).toContain('data-step="queued"')

    const cookie = cookieOf(browser)
    const [stream, second] = await Promise.all([openStream(cookie, `/status/order/${orderId}`), openStream(cookie, `/status/order/${orderId}`)])
    expect(stream.status).toBe(200)
    expect((await stream.next(() => true)).step).toBe('queued')

    const started = Date.now()
    await w.h.startWorker()
    const delivered = await stream.next((s) => s.step === 'delivered')
    console.log(`live status: worker start → "delivered" event on the stream: ${Date.now() - started} ms; steps seen: ${stream.events.map((e) => e.step).join(' → ')}`)
    expect(delivered).toMatchObject({ final: true, accountId: expect.any(Number) })
    expect(delivered.subscriptionUrl).toMatch(/\/sub\//)
    const steps = stream.events.map((e) => e.step)
    expect(steps[0]).toBe('queued')
    expect(steps).toContain('provisioning')
    expect(steps.at(-1)).toBe('delivered')
    expect(steps.indexOf('provisioning')).toBeLessThan(steps.indexOf('delivered'))
    // The server ends the stream after the final state, for every subscriber.
    await stream.ended
    await second.ended
    expect(second.events.at(-1)?.step).toBe('delivered')

    // Reopening: the same final state at once, from the poll, the stream and the page.
    const again = await openStream(cookie, `/status/order/${orderId}`)
    await again.ended
    expect(again.events.map((e) => e.step)).toEqual(['delivered'])
    expect(again.events[0]!.subscriptionUrl).toBe(delivered.subscriptionUrl)
    const reopened = await browser.get(`/agent/orders/${orderId}`)
    expect(reopened.text).toContain('data-step="delivered"')
    expect(reopened.text).toContain(delivered.subscriptionUrl!.replaceAll('&', '&amp;'))
    expect(reopened.text).toContain('data:image/svg+xml;base64,')
  })

  test('a payment page follows the receipt from waiting for approval to approved', async () => {
    const { browser, user } = await w.signIn('customer')
    const { submitPayment, decidePayment } = await import('#db/payments.ts')
    const { payment } = await submitPayment(w.h.db, w.h.client, { userId: user.id, methodId: w.cardMethodId, amount: '70000', receipt: { path: 'receipts/x.png', sha256: 'a'.repeat(64), mime: 'image/png' } })
    const stream = await openStream(cookieOf(browser), `/status/payment/${payment.id}`)
    expect((await stream.next(() => true)).step).toBe('pending')
    await decidePayment(w.h.client, payment.id, { decision: 'approve', adminId: w.h.adminId })
    expect(await stream.next((s) => s.final)).toMatchObject({ step: 'approved', balanceAfter: '70000' })
    await stream.ended
  })

  test('a status is only for its owner: anonymous gets 401, another user 404', async () => {
    const owner = await w.signIn('agent')
    await adjustWallet(w.h.db, w.h.client, { userId: owner.user.id, amount: '200000', note: 'test credit', actorUserId: w.h.adminId })
    const placed = await owner.browser.post('/agent/users/new', { planId: String(w.h.planId), locationId: String(w.h.locationId), orderKey: orderKey(), intent: 'create' })
    const orderId = idFrom(placed.location, '/agent/orders/')
    const anonymous = await fetch(`${w.url}/status/order/${orderId}`, { headers: { Accept: 'text/event-stream' } })
    expect(anonymous.status).toBe(401)
    expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } })
    const other = await w.signIn('customer')
    const stream = await openStream(cookieOf(other.browser), `/status/order/${orderId}`)
    expect(stream.status).toBe(404)
    expect((await fetch(`${w.url}/status/nothing/1`, { headers: { Cookie: cookieOf(owner.browser) } })).status).toBe(404)
  })
})
