import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adjustManual } from '#db/ledger.ts'
import { placeOrder } from '#db/orders.ts'
import { submitPayment } from '#db/payments.ts'
import { RECONCILE_SCHEDULE_ID } from '#temporal/messages.ts'
import { ensureReconcileSchedule } from '#temporal/reconcile.ts'
import { startWebServer, type WebServer } from '../../../web/server.ts'
import { temporalProviderFromClient } from '../../../web/app/utils/temporal.server.ts'
import { startHarness, waitFor, type Harness } from '../../workflows/harness.ts'
import { makeUser, signedIn, type TestBrowser, type TestWeb } from './harness.ts'

/**
 * The admin pages that act on workflows, against flowpanel's real worker and workflows on Temporal's
 * CLI dev server: deciding payments, and the ops page's terminate, retry-now and cancel-with-refund.
 */
let h: Harness
let server: WebServer
let redis: Redis
let web: TestWeb
let admin: TestBrowser
let adminId: number
let adminName: string
let methodId: number

beforeAll(async () => {
  // The ops page lists running workflows: that needs visibility, so the CLI dev server.
  h = await startHarness('web_admin_workflows', { temporal: 'dev' })
  redis = new Redis(h.redisUrl)
  server = await startWebServer({
    env: h.appEnv,
    db: h.db,
    redis,
    temporal: temporalProviderFromClient(h.client, { uiUrl: 'http://temporal-ui.test' }),
    port: 0,
    host: '127.0.0.1',
    mode: 'development',
    optimizeClientDeps: false,
  })
  web = { url: server.url, db: h.db, redis, env: h.appEnv, server, uploadDir: h.appEnv.UPLOAD_DIR, close: async () => {} }
  const signed = await signedIn(web, 'admin')
  admin = signed.browser
  adminId = signed.user.id
  adminName = signed.user.username
  await admin.post('/preferences', { locale: 'en', redirectTo: '/admin' })
  const [method] = await h.db('paymentMethods').insert({ kind: 'CARD', titleFa: 'کارت', titleEn: 'Card to card' }).returning('id')
  methodId = method.id
}, 240_000)

afterAll(async () => {
  await server?.close()
  redis?.disconnect()
  await h?.teardown()
})

async function pendingPayment(userId: number, amount: string): Promise<number> {
  const { payment } = await submitPayment(h.db, h.client, { userId, methodId, amount })
  await waitFor('the pending charge', async () => (await h.db('wallets').where({ userId }).first()).pending === amount)
  return payment.id
}

describe('payments queue', () => {
  it('approves a receipt through the payment workflow and shows its answer', async () => {
    const customer = await makeUser(h.db, 'customer')
    const paymentId = await pendingPayment(customer.id, '250000')
    const queue = await admin.get('/admin/payments')
    expect(queue.text).toContain(`data-testid="payment-${paymentId}"`)

    const response = await admin.post('/admin/payments', { intent: 'approve', paymentId: String(paymentId), note: 'seen on statement' })
    expect(response.status).toBe(200)
    expect(response.text).toContain(`Approved. The payer&#x27;s usable credit is now 250,000 Toman.`)
    expect(await h.db('payments').where({ id: paymentId }).first()).toMatchObject({ status: 'APPROVED', decidedBy: adminId })
    expect(await h.db('wallets').where({ userId: customer.id }).first()).toMatchObject({ confirmed: '250000', pending: '0' })
    const audit = await h.db('auditLog').where({ action: 'payment.approve', targetId: String(paymentId) }).first()
    expect(audit.detail).toMatchObject({ answer: 'APPROVED', note: 'seen on statement' })
    const after = await admin.get('/admin/payments')
    expect(after.text).not.toContain(`data-testid="payment-${paymentId}"`)
    expect(after.text).toContain(`data-testid="decided-${paymentId}"`)

    const again = await admin.post('/admin/payments', { intent: 'reject', paymentId: String(paymentId), note: 'too late' })
    expect(again.text).toContain(`This payment was already decided: Approved by ${adminName}, `)
    expect((await h.db('payments').where({ id: paymentId }).first()).status).toBe('APPROVED')
  })

  it('rejects with a note, which an agent who sold on the pending credit feels at once', async () => {
    const agent = await makeUser(h.db, 'agent')
    const paymentId = await pendingPayment(agent.id, '90000')
    const response = await admin.post('/admin/payments', { intent: 'reject', paymentId: String(paymentId), note: 'receipt is fake' })
    expect(response.status).toBe(200)
    expect(response.text).toContain('Rejected.')
    expect(await h.db('payments').where({ id: paymentId }).first()).toMatchObject({ status: 'REJECTED', note: 'receipt is fake' })
    expect((await h.db('wallets').where({ userId: agent.id }).first()).pending).toBe('0')
  })

  it('says the decision is not confirmed when no worker answers in time, instead of hanging', async () => {
    const customer = await makeUser(h.db, 'customer')
    const [row] = await h.db('payments').insert({ userId: customer.id, methodId, amount: '1000' }).returning('id')
    // The payment's workflow runs on a task queue no worker polls, so nothing takes the decision.
    const unattended = await h.client.workflow.start('paymentApproval', { taskQueue: 'nobody-polls-this', workflowId: `payment-${row.id}`, args: [{ paymentId: row.id }] })
    try {
      const started = Date.now()
      const response = await admin.post('/admin/payments', { intent: 'approve', paymentId: String(row.id) })
      expect(response.status).toBe(503)
      expect(response.text).toContain('The payment workflow did not answer in time, so the decision is not confirmed.')
      expect(Date.now() - started).toBeLessThan(20_000)
      expect((await h.db('payments').where({ id: row.id }).first()).status).toBe('PENDING')
    } finally {
      await unattended.terminate('test done')
    }
  })

  it('says so when no workflow waits for a pending payment', async () => {
    const customer = await makeUser(h.db, 'customer')
    const [row] = await h.db('payments').insert({ userId: customer.id, methodId, amount: '1000' }).returning('id')
    const response = await admin.post('/admin/payments', { intent: 'approve', paymentId: String(row.id) })
    expect(response.text).toContain('No workflow is waiting for this payment')
    expect((await h.db('payments').where({ id: row.id }).first()).status).toBe('PENDING')
  })
})

describe('workflows page', () => {
  it('lists a running payment workflow with a Temporal UI link and terminates it only when confirmed', async () => {
    const customer = await makeUser(h.db, 'customer')
    const paymentId = await pendingPayment(customer.id, '5000')
    const workflowId = `payment-${paymentId}`
    const page = await admin.get('/admin/workflows?type=paymentApproval')
    expect(page.text).toContain(`data-testid="workflow-${workflowId}"`)
    expect(page.text).toContain(`http://temporal-ui.test/namespaces/default/workflows/${workflowId}/`)
    expect(page.text).not.toContain('data-testid="workflow-order-')

    const wrong = await admin.post('/admin/workflows', { intent: 'terminate', workflowId, confirmId: 'payment-0', reason: 'test' })
    expect(wrong.status).toBe(400)
    expect(wrong.text).toContain('The typed ID does not match.')
    expect((await h.client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING')

    const done = await admin.post('/admin/workflows', { intent: 'terminate', workflowId, confirmId: workflowId, reason: 'duplicate receipt' })
    expect(done.status).toBe(200)
    expect(done.text).toContain('Workflow terminated.')
    expect((await h.client.workflow.getHandle(workflowId).describe()).status.name).toBe('TERMINATED')
    expect((await h.db('auditLog').where({ action: 'workflow.terminate', targetId: workflowId }).first()).detail).toEqual({ reason: 'duplicate receipt' })

    const gone = await admin.post('/admin/workflows', { intent: 'terminate', workflowId, confirmId: workflowId, reason: 'again' })
    expect(gone.text).toContain('This workflow is no longer running.')
  })

  it('shows a stuck order first with its attempt and last error, retries it now, then cancels it with a refund', async () => {
    // The panel stops answering, so provisioning fails and the order workflow waits to try again.
    await h.db('panels').where({ id: h.panelId }).update({ baseUrl: 'http://127.0.0.1:9', updatedAt: new Date() })
    const agent = await makeUser(h.db, 'agent')
    await adjustManual(h.db, { userId: agent.id, amount: 500_000n, note: 'test credit', actorUserId: adminId, idempotencyKey: `web-test-${agent.id}` })
    const placed = await placeOrder(h.db, h.client, { userId: agent.id, planId: h.planId, locationId: h.locationId })
    const workflowId = placed.workflowId

    const stuck = await waitFor('the order to report a failed attempt', async () => {
      const page = await admin.get(`/admin/workflows?type=orderToProvision`)
      return page.text.includes('badge-stuck') && page.text.includes(`data-testid="workflow-${workflowId}"`) ? page : undefined
    }, 45_000)
    expect(stuck.text).toMatch(/data-testid="workflow-attempt">1</)

    const retry = await admin.post('/admin/workflows', { intent: 'retry', workflowId })
    expect(retry.status).toBe(200)
    expect(retry.text).toContain('Retry signal sent.')
    await waitFor('a second attempt', async () => /data-testid="workflow-attempt">([2-9]|\d\d)</.test((await admin.get(`/admin/workflows?id=${workflowId}`)).text), 30_000)

    const cancel = await admin.post('/admin/workflows', { intent: 'cancel', workflowId })
    expect(cancel.status).toBe(200)
    // The answer comes once the debit is back; the half-made panel user is cleaned up afterwards.
    expect(cancel.text).toContain('Order cancelled; 120,000 Toman went back to the wallet.')
    expect((await h.db('orders').where({ id: placed.order.id }).first()).status).toBe('cancelled')
    expect((await h.db('wallets').where({ userId: agent.id }).first()).confirmed).toBe('500000')
    const again = await admin.post('/admin/workflows', { intent: 'cancel', workflowId })
    expect(again.status).toBe(409)
    expect(again.text).toContain(`This order was already cancelled by ${adminName}, `)
    expect(await h.db('auditLog').where({ action: 'workflow.retry_now', targetId: workflowId })).toHaveLength(1)
    expect((await h.db('auditLog').where({ action: 'workflow.cancel_refund', targetId: workflowId }).orderBy('id')).map((a) => a.detail)).toEqual([
      { ok: true, answer: 'cancelled' },
      { ok: false, answer: 'already_cancelled' },
    ])

    const payment = await admin.post('/admin/workflows', { intent: 'retry', workflowId: 'payment-1' })
    expect(payment.text).toContain('Only order workflows accept this action.')
  })
})

describe('reconciled work', () => {
  it('the ops page runs a reconcile pass when asked and lists what it did, in English and in Persian', async () => {
    const customer = await makeUser(h.db, 'customer')
    // A receipt whose workflow never started, written long enough ago for the reconciler to take it.
    const [row] = await h.db('payments').insert({ userId: customer.id, methodId, amount: '3000', createdAt: new Date(Date.now() - 10 * 60_000) }).returning('id')
    const early = await admin.post('/admin/workflows', { intent: 'reconcile' })
    expect(early.status).toBe(409)
    expect(early.text).toContain('No worker has set up the reconcile schedule yet.')

    await ensureReconcileSchedule(h.client, { intervalMs: 3_600_000 })
    try {
      const asked = await admin.post('/admin/workflows', { intent: 'reconcile' })
      expect(asked.status).toBe(200)
      expect(asked.text).toContain('A reconcile pass was asked for.')
      const page = await waitFor(
        'the reconciliation on the ops page',
        async () => {
          const p = await admin.get('/admin/workflows')
          return p.text.includes(`data-testid="reconciled-payment-${row.id}"`) ? p : undefined
        },
        30_000,
      )
      // React puts <!-- --> between adjacent pieces of text.
      const line = (html: string) => new RegExp(`data-testid="reconciled-payment-${row.id}">(.*?)</tr>`, 's').exec(html.replaceAll('<!-- -->', ''))?.[1] ?? ''
      expect(line(page.text)).toMatch(new RegExp(`Payment #${row.id} .*payment-${row.id}.*No workflow.*Started again.*no workflow`, 's'))
      expect(await h.db('auditLog').where({ action: 'reconcile.restarted', targetType: 'payment', targetId: String(row.id) })).toHaveLength(1)
      expect(await h.db('auditLog').where({ action: 'workflow.reconcile_now', actorUserId: adminId })).toHaveLength(1)
      expect((await h.client.workflow.getHandle(`payment-${row.id}`).describe()).status.name).toBe('RUNNING')
      await waitFor('the pending charge', async () => (await h.db('wallets').where({ userId: customer.id }).first()).pending === '3000')

      await admin.post('/preferences', { locale: 'fa', redirectTo: '/admin' })
      const fa = await admin.get('/admin/workflows')
      expect(line(fa.text)).toMatch(/پرداخت #[۰-۹]+ .*بدون گردش‌کار.*دوباره راه افتاد/s)
    } finally {
      await admin.post('/preferences', { locale: 'en', redirectTo: '/admin' })
      await h.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).delete()
    }
  })
})
