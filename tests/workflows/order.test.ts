import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { adjustWallet, submitPayment, decidePayment } from '#db/payments.ts'
import { cancelOrder, OrderRefusedError, placeOrder } from '#db/orders.ts'
import { cancelOrderUpdate, ORDER_CANCEL_REFUSED, orderStatusQuery, ORDER_FAILED, type OrderCancelRefusal, type OrderResult } from '#temporal/messages.ts'
import { lastStatusKey } from '#activities/notifications.ts'
import { GB, ledgerEntries, panelUsers, replayHistories, startHarness, waitFor, type Harness } from './harness.ts'

let h: Harness
let customerId: number
const CUSTOMER_CHAT = '5001'

beforeAll(async () => {
  h = await startHarness('order')
  customerId = await h.createCustomer('customer1', { telegramId: CUSTOMER_CHAT })
})
afterAll(async () => {
  await h?.teardown()
})

async function fund(userId: number, amount: string) {
  await adjustWallet(h.db, h.client, { userId, amount, note: 'test top-up', actorUserId: h.adminId })
}

async function order(userId: number, extra: Partial<Parameters<typeof placeOrder>[2]> = {}) {
  const placed = await placeOrder(h.db, h.client, { userId, planId: h.planId, locationId: h.locationId, ...extra })
  h.started.add(placed.workflowId)
  return { ...placed, handle: h.client.workflow.getHandle<() => Promise<OrderResult>>(placed.workflowId) }
}

describe('order-to-provision', () => {
  test('a wallet order debits once, creates one panel user, stores the account and sends the link once', async () => {
    await fund(customerId, '500000')
    const { order: row, handle } = await order(customerId)
    const result = await handle.result()

    expect(result).toMatchObject({ orderId: row.id, outcome: 'delivered', refunded: '0' })
    expect(result.subscriptionUrl).toMatch(/\/sub\//)
    const account = await h.db('accounts').where({ orderId: row.id }).first()
    expect(account).toMatchObject({ userId: customerId, panelId: h.panelId, panelUsername: `fp_${row.id}`, status: 'active', subscriptionUrl: result.subscriptionUrl })
    expect(BigInt(account.dataLimitBytes)).toBe(BigInt(50 * GB))
    expect(await h.db('orders').where({ id: row.id }).first()).toMatchObject({ status: 'delivered', accountId: account.id, price: '150000' })

    const debits = await ledgerEntries(h.db, { referenceType: 'order', referenceId: row.id })
    expect(debits.map((d) => [d.type, d.confirmedDelta])).toEqual([['ORDER_DEBIT', '-150000']])
    expect(panelUsers(h.marzban).filter((u) => u.username === `fp_${row.id}`)).toHaveLength(1)

    const sent = h.telegram.messages(CUSTOMER_CHAT).filter((m) => m.text.includes(`Order #${row.id}`))
    expect(sent).toHaveLength(1)
    expect(sent[0]!.text).toContain(result.subscriptionUrl!)
    const status = await handle.query(orderStatusQuery)
    expect(status).toMatchObject({ step: 'delivered', attempt: 1, accountId: account.id })
    const published = JSON.parse((await h.redis.get(lastStatusKey(h.appEnv, handle.workflowId))) ?? 'null')
    expect(published).toMatchObject({ orderId: row.id, step: 'delivered', subscriptionUrl: result.subscriptionUrl })
  })
})

describe('order-to-provision, paying by receipt', () => {
  test('the order waits for its payment, and an approval lets it debit and deliver', async () => {
    const userId = await h.createCustomer('receipt-buyer')
    const { order: row, handle } = await order(userId, { payMethod: 'receipt' })
    await waitFor('order to wait for its payment', async () => (await handle.query(orderStatusQuery)).step === 'awaiting_payment')
    const [method] = await h.db('paymentMethods').insert({ kind: 'CARD', titleFa: 'کارت', titleEn: 'Card' }).returning('id')
    const { payment, workflowId } = await submitPayment(h.db, h.client, { userId, methodId: method.id, amount: '150000', orderId: row.id })
    h.started.add(workflowId)
    const decided = await decidePayment(h.client, payment.id, { decision: 'approve', adminId: h.adminId, note: 'ok' })
    expect(decided).toMatchObject({ ok: true, decided: { outcome: 'approved', decidedBy: h.adminId } })

    const result = await handle.result()
    expect(result.outcome).toBe('delivered')
    const entries = await ledgerEntries(h.db, { userId })
    expect(entries.map((e) => e.type)).toEqual(['CHARGE_PENDING', 'CHARGE_APPROVED', 'ORDER_DEBIT'])
    expect((await handle.query(orderStatusQuery)).paymentId).toBe(payment.id)
  })

  test('a rejected payment fails the order without charging anything', async () => {
    const userId = await h.createCustomer('rejected-buyer')
    const { order: row, handle } = await order(userId, { payMethod: 'receipt' })
    const method = await h.db('paymentMethods').first('id')
    const { payment, workflowId } = await submitPayment(h.db, h.client, { userId, methodId: method.id, amount: '150000', orderId: row.id })
    h.started.add(workflowId)
    await decidePayment(h.client, payment.id, { decision: 'reject', adminId: h.adminId, note: 'receipt unreadable' })

    const failure = await handle.result().catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(WorkflowFailedError)
    const cause = (failure as WorkflowFailedError).cause as ApplicationFailure
    expect(cause.type).toBe(ORDER_FAILED)
    expect(cause.message).toBe(`Payment #${payment.id} was rejected: receipt unreadable. Nothing was charged.`)
    expect(await ledgerEntries(h.db, { referenceType: 'order', referenceId: row.id })).toEqual([])
    expect(await h.db('orders').where({ id: row.id }).first()).toMatchObject({ status: 'failed', failureReason: cause.message })
  })
})

describe('order-to-provision, renewals', () => {
  test('a renewal adds the days to the current expiry and carries the remaining traffic over, at the buyer price', async () => {
    const agentId = await h.createAgent('renewing-agent')
    await fund(agentId, '1000000')
    const first = await order(agentId)
    // Renewed while the first term still runs: this wait must not let the test server's clock run past it.
    const delivered = await h.realTimeClient.workflow.getHandle<() => Promise<OrderResult>>(first.handle.workflowId).result()
    const username = `fp_${first.order.id}`
    h.marzban.setUsage(username, 20 * GB)
    const before = h.marzban.user(username) as { expire: number; data_limit: number }

    const renewal = await order(agentId, { kind: 'renew', accountId: delivered.accountId!, locationId: null })
    expect(renewal.order.price).toBe('120000')
    const result = await renewal.handle.result()
    expect(result).toMatchObject({ outcome: 'delivered', accountId: delivered.accountId })

    const after = h.marzban.user(username) as { expire: number; data_limit: number; used_traffic: number }
    expect(after.expire - before.expire).toBe(30 * 86_400)
    // 30 GB were left; with the new 50 GB, 80 GB are left and the limit counts the 20 GB used.
    expect(after.data_limit - after.used_traffic).toBe(80 * GB)
    expect(panelUsers(h.marzban).filter((u) => u.username.startsWith('fp_'))).toHaveLength(
      (await h.db('accounts').count({ n: '*' }).first())!.n as number,
    )
    const account = await h.db('accounts').where({ id: delivered.accountId }).first()
    expect(new Date(account.expiresAt).getTime() / 1000).toBe(after.expire)
    expect(await ledgerEntries(h.db, { referenceType: 'order', referenceId: renewal.order.id })).toEqual([
      expect.objectContaining({ type: 'ORDER_DEBIT', confirmedDelta: '-120000' }),
    ])
  })
})

describe('order-to-provision, failures and compensation', () => {
  test('a panel that is down for 10 minutes delays the order; it completes with one panel user and one debit', async () => {
    await fund(customerId, '150000')
    await h.marzban.down()
    const { order: row, handle } = await order(customerId)
    try {
      await waitFor('a failed attempt', async () => (await handle.query(orderStatusQuery)).lastError)
      await h.env.sleep('10m')
    } finally {
      await h.marzban.up()
    }
    const result = await handle.result()
    expect(result.outcome).toBe('delivered')
    const status = await handle.query(orderStatusQuery)
    expect(status.attempt).toBeGreaterThan(5)
    expect(panelUsers(h.marzban).filter((u) => u.username === `fp_${row.id}`)).toHaveLength(1)
    expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: row.id })).map((e) => e.type)).toEqual(['ORDER_DEBIT'])
  })

  test('a panel that stays down past the deadline fails the order, refunds the debit exactly once and leaves no panel user', async () => {
    await fund(customerId, '150000')
    await h.marzban.down()
    const { order: row, handle } = await order(customerId)
    try {
      await h.env.sleep('31m')
      await waitFor('the order to be marked failed', async () => (await h.db('orders').where({ id: row.id }).first()).status === 'failed')
      expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: row.id })).map((e) => [e.type, e.confirmedDelta])).toEqual([
        ['ORDER_DEBIT', '-150000'],
        ['ORDER_REFUND', '150000'],
      ])
    } finally {
      await h.marzban.up()
    }
    const failure = await handle.result().catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(WorkflowFailedError)
    const cause = (failure as WorkflowFailedError).cause as ApplicationFailure
    expect(cause.type).toBe(ORDER_FAILED)
    expect(cause.message).toMatch(/could not be created within 30 min/)
    expect(panelUsers(h.marzban).find((u) => u.username === `fp_${row.id}`)).toBeUndefined()
    expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: row.id })).map((e) => e.type)).toEqual(['ORDER_DEBIT', 'ORDER_REFUND'])
    expect(await h.db('orders').where({ id: row.id }).first()).toMatchObject({ status: 'failed', accountId: null })
    expect(h.telegram.messages(CUSTOMER_CHAT).filter((m) => m.text.includes(`Order #${row.id} could not be completed`))).toHaveLength(1)
  })

  test('cancelling during provisioning removes the half-made panel user and refunds the debit', async () => {
    await fund(customerId, '150000')
    h.marzban.latencyMs = 1_500
    try {
      const seen = h.marzban.requests.length
      const { order: row, handle } = await order(customerId)
      await waitFor('the create to reach the panel', () => h.marzban.requests.slice(seen).some((r) => r.method === 'POST' && r.path === '/api/user'))
      // The answer comes once the debit is back in the wallet, before the panel clean-up.
      const cancelled = await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'changed my mind', actorUserId: customerId }] })
      expect(cancelled).toEqual({ orderId: row.id, outcome: 'cancelled', refunded: '150000', reason: 'changed my mind', cancelledBy: customerId, cancelledAt: expect.any(String) })
      expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: row.id })).map((e) => e.type)).toEqual(['ORDER_DEBIT', 'ORDER_REFUND'])
      // A second cancel, by someone else, is refused by the validator with the first one.
      const again = await handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'admin', actorUserId: h.adminId }] }).catch((e: unknown) => e)
      expect(again).toBeInstanceOf(WorkflowUpdateFailedError)
      const cause = (again as WorkflowUpdateFailedError).cause as ApplicationFailure
      expect(cause.type).toBe(ORDER_CANCEL_REFUSED)
      expect(cause.details?.[0]).toEqual({ reason: 'already_cancelled', orderId: row.id, cancelledBy: customerId, cancelledAt: cancelled.cancelledAt } satisfies OrderCancelRefusal)
      const result = await handle.result()
      expect(result).toMatchObject({ outcome: 'cancelled', refunded: '150000', accountId: null, reason: 'changed my mind' })
      expect(panelUsers(h.marzban).find((u) => u.username === `fp_${row.id}`)).toBeUndefined()
      expect(h.marzban.requests.slice(seen).some((r) => r.method === 'DELETE' && r.path === `/api/user/fp_${row.id}`)).toBe(true)
      expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: row.id })).map((e) => e.type)).toEqual(['ORDER_DEBIT', 'ORDER_REFUND'])
      expect(await h.db('orders').where({ id: row.id }).first()).toMatchObject({ status: 'cancelled' })
      expect(await h.db('accounts').where({ orderId: row.id }).first()).toBeUndefined()
    } finally {
      h.marzban.latencyMs = 0
    }
  })
})

describe('cancelling an order', () => {
  const refusalOf = async (attempt: Promise<unknown>): Promise<OrderCancelRefusal> => {
    const error = await attempt.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError)
    const cause = (error as WorkflowUpdateFailedError).cause as ApplicationFailure
    expect(cause.type).toBe(ORDER_CANCEL_REFUSED)
    return cause.details![0] as OrderCancelRefusal
  }

  test('an order waiting for its receipt is cancelled at once with nothing charged; a second cancel says it already is', async () => {
    const userId = await h.createCustomer('cancel-waiting')
    const { order: row, handle } = await order(userId, { payMethod: 'receipt' })
    await waitFor('order to wait for its payment', async () => (await handle.query(orderStatusQuery)).step === 'awaiting_payment')
    const cancelled = await cancelOrder(h.db, h.client, row.id, { reason: 'no receipt after all', actorUserId: userId })
    expect(cancelled).toMatchObject({ ok: true, cancelled: { orderId: row.id, outcome: 'cancelled', refunded: '0', cancelledBy: userId }, message: `Order ${row.id} cancelled; nothing had been charged` })
    expect(await h.db('orders').where({ id: row.id }).first()).toMatchObject({ status: 'cancelled' })
    expect(await handle.result()).toMatchObject({ outcome: 'cancelled', refunded: '0', reason: 'no receipt after all' })
    // The workflow has closed: the answer comes from the order's row.
    expect(await cancelOrder(h.db, h.client, row.id, { reason: 'again', actorUserId: h.adminId })).toMatchObject({
      ok: false,
      reason: 'already_cancelled',
      refusal: { reason: 'already_cancelled', orderId: row.id },
    })
    expect(await cancelOrder(h.db, h.client, 999_999, { reason: 'none', actorUserId: h.adminId })).toMatchObject({ ok: false, reason: 'not_found' })
  })

  test('from delivery on a cancel is too late: refused by the running workflow, and by the row once it has closed', async () => {
    await fund(customerId, '150000')
    // The buyer's delivery notice is held back, so the workflow is still running after the delivery.
    h.telegram.floodNext(1, 5, (_method, params) => String(params.chat_id) === CUSTOMER_CHAT)
    const { order: row, handle } = await order(customerId)
    await waitFor('the delivery', async () => (await h.db('orders').where({ id: row.id }).first()).status === 'delivered')
    const refusal = await refusalOf(handle.executeUpdate(cancelOrderUpdate, { args: [{ reason: 'too late', actorUserId: customerId }] }))
    expect(refusal).toEqual({ reason: 'too_late', orderId: row.id, state: 'delivered' })
    expect((await handle.describe()).status.name).toBe('RUNNING')
    expect(await handle.result()).toMatchObject({ outcome: 'delivered' })
    expect(await cancelOrder(h.db, h.client, row.id, { reason: 'too late', actorUserId: customerId })).toMatchObject({
      ok: false,
      reason: 'too_late',
      refusal: { reason: 'too_late', orderId: row.id, state: 'delivered' },
      message: `Too late: order ${row.id} is already delivered; it cannot be cancelled`,
    })
    expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: row.id })).map((e) => e.type)).toEqual(['ORDER_DEBIT'])
  })
})

describe('placing an order', () => {
  test('the same idempotency key returns the first order instead of making a second', async () => {
    await fund(customerId, '150000')
    const a = await order(customerId, { idempotencyKey: 'checkout-42' })
    const b = await order(customerId, { idempotencyKey: 'checkout-42' })
    expect(b).toMatchObject({ created: false, workflowId: a.workflowId })
    expect(b.order.id).toBe(a.order.id)
    await a.handle.result()
    const c = await order(customerId, { idempotencyKey: 'checkout-42' })
    expect(c.order.id).toBe(a.order.id)
    expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: a.order.id })).map((e) => e.type)).toEqual(['ORDER_DEBIT'])
  })

  test('refusals say why and write nothing', async () => {
    const agentId = await h.createAgent('negative-agent')
    await adjustWallet(h.db, h.client, { userId: agentId, amount: '-1000', note: 'correction', actorUserId: h.adminId })
    const before = (await h.db('orders').count({ n: '*' }).first())!.n
    const negative = await placeOrder(h.db, h.client, { userId: agentId, planId: h.planId, locationId: h.locationId }).catch((e: unknown) => e)
    expect(negative).toBeInstanceOf(OrderRefusedError)
    expect(negative).toMatchObject({ code: 'NEGATIVE_CREDIT', message: expect.stringMatching(/blocked while your credit is negative \(-1,000\)/) })

    const poor = await h.createCustomer('poor-customer')
    await expect(placeOrder(h.db, h.client, { userId: poor, planId: h.planId, locationId: h.locationId })).rejects.toMatchObject({
      code: 'INSUFFICIENT_CREDIT',
      message: 'Not enough credit: this costs 150,000 but only 0 is available. Top up or pay by receipt.',
    })
    await expect(placeOrder(h.db, h.client, { userId: poor, planId: h.planId })).rejects.toMatchObject({ code: 'LOCATION_REQUIRED' })
    await expect(placeOrder(h.db, h.client, { userId: poor, planId: 999, locationId: h.locationId })).rejects.toMatchObject({ code: 'PLAN_NOT_FOUND' })
    await expect(placeOrder(h.db, h.client, { userId: poor, planId: h.planId, kind: 'renew', accountId: 1 })).rejects.toMatchObject({ code: 'ACCOUNT_NOT_FOUND' })
    expect((await h.db('orders').count({ n: '*' }).first())!.n).toBe(before)
  })
})

describe('replay', () => {
  test('every finished workflow of this file replays without nondeterminism', async () => {
    const { replayed, errors } = await replayHistories(h, h.started, 'order')
    expect(errors).toEqual([])
    expect(replayed).toBeGreaterThan(0)
  })
})
