import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTemporalProvider } from '../../../web/app/utils/temporal.server.ts'
import { makeUser, signedIn, startTestWeb, type TestBrowser, type TestWeb } from './harness.ts'
import { seedPaymentMethod, seedPendingPayment } from './seed.ts'

/** A Temporal address where nothing listens: pages still render stored data and say why actions are unavailable. */
const NOWHERE = '127.0.0.1:1'

describe('the Temporal provider', () => {
  it('fails with a clear error when nothing listens, then fails fast for a while', async () => {
    const provider = createTemporalProvider({ address: NOWHERE, namespace: 'default', connectTimeoutMs: 1_000, retryAfterMs: 60_000 })
    const first = await provider.getClient().catch((e: unknown) => e)
    expect(first).toMatchObject({ code: 'TEMPORAL_UNAVAILABLE', reason: 'unreachable', message: `Temporal at ${NOWHERE} is unreachable` })
    const second = await provider.getClient().catch((e: unknown) => e)
    expect(second).toMatchObject({ reason: 'unreachable' })
    // No second connection attempt within retryAfterMs: the answer carries the first attempt's failure.
    expect((second as Error).cause).toBe((first as Error).cause)
    await provider.close()
  })

  it('says when no address is configured', async () => {
    const provider = createTemporalProvider({ address: undefined, namespace: 'default' })
    await expect(provider.getClient()).rejects.toMatchObject({ reason: 'not_configured' })
  })
})

describe('admin pages with Temporal unreachable', () => {
  let web: TestWeb
  let admin: TestBrowser
  beforeAll(async () => {
    web = await startTestWeb({ label: 'web_no_temporal', env: { TEMPORAL_ADDRESS: NOWHERE } })
    admin = (await signedIn(web, 'admin')).browser
    await admin.post('/preferences', { locale: 'en', redirectTo: '/admin' })
  })
  afterAll(async () => {
    await web?.close()
  })

  it('lists no workflows and explains why', async () => {
    const page = await admin.get('/admin/workflows')
    expect(page.status).toBe(200)
    expect(page.text).toContain('The workflow service (Temporal) cannot be reached right now.')
  })

  it('keeps the payment pending and shows the queue', async () => {
    const customer = await makeUser(web.db, 'customer')
    const paymentId = await seedPendingPayment(web.db, { userId: customer.id, methodId: await seedPaymentMethod(web.db) })
    const response = await admin.post('/admin/payments', { intent: 'approve', paymentId: String(paymentId) })
    expect(response.status).toBe(503)
    expect(response.text).toContain('cannot be reached right now')
    expect(response.text).toContain(`data-testid="payment-${paymentId}"`)
    expect((await web.db('payments').where({ id: paymentId }).first()).status).toBe('PENDING')
  })
})
