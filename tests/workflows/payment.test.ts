import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { WorkflowUpdateFailedError } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { decidePayment, PaymentRefusedError, storeReceipt, submitPayment } from '#db/payments.ts'
import { placeOrder } from '#db/orders.ts'
import { createUser } from '#db/users.ts'
import { listPendingPayments as botPendingPayments } from '#db/telegram.ts'
import { countPendingPayments } from '#db/web-dashboard.ts'
import { listPendingPayments } from '#db/web-payments.ts'
import {
  creditWatchStatusQuery,
  decidePaymentUpdate,
  gatewayVerifiedSignal,
  PAYMENT_DECISION_REFUSED,
  paymentStatusQuery,
  type PaymentDecisionRefusal,
  type PaymentResult,
} from '#temporal/messages.ts'
import { creditWatchWorkflowId } from '#temporal/workflow-ids.ts'
import { ADMIN_CHAT, ledgerEntries, replayHistories, startHarness, waitFor, type Harness } from './harness.ts'

let h: Harness
let methodId: number

beforeAll(async () => {
  h = await startHarness('payment')
  const [method] = await h.db('paymentMethods').insert({ kind: 'CARD', titleFa: 'کارت', titleEn: 'Card to card' }).returning('id')
  methodId = method.id
})
afterAll(async () => {
  await h?.teardown()
})

async function submit(userId: number, amount: string, extra: { orderId?: number; methodId?: number } = {}) {
  const submitted = await submitPayment(h.db, h.client, { userId, methodId: extra.methodId ?? methodId, amount, orderId: extra.orderId })
  h.started.add(submitted.workflowId)
  return { ...submitted, handle: h.client.workflow.getHandle<() => Promise<PaymentResult>>(submitted.workflowId) }
}

/** The typed refusal of an update the workflow refused. */
async function refusalOf(attempt: Promise<unknown>): Promise<PaymentDecisionRefusal> {
  const error = await attempt.then(
    () => expect.unreachable('the update was accepted'),
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError)
  const cause = (error as WorkflowUpdateFailedError).cause
  expect(cause).toBeInstanceOf(ApplicationFailure)
  expect((cause as ApplicationFailure).type).toBe(PAYMENT_DECISION_REFUSED)
  return (cause as ApplicationFailure).details![0] as PaymentDecisionRefusal
}

const wallet = async (userId: number) => h.db('wallets').where({ userId }).first('confirmed', 'pending', 'negativeSince')

describe('payment approval', () => {
  test('a submitted receipt is pending credit at once; approval confirms it and tells the payer', async () => {
    const userId = await h.createCustomer('payer', { telegramId: '6001' })
    const { payment, handle } = await submit(userId, '250000')
    await waitFor('the pending charge', async () => (await wallet(userId)).pending === '250000')
    await waitFor('the admins to be asked', () => h.telegram.messages(ADMIN_CHAT).some((m) => m.text.includes(`Payment #${payment.id}:`)))
    const ask = h.telegram.messages(ADMIN_CHAT).find((m) => m.text.includes(`Payment #${payment.id}:`))!
    expect(ask.text).toBe(`🧾 Payment #${payment.id}: 250,000 Toman from payer (Card to card)`)
    expect(ask.replyMarkup).toEqual({
      inline_keyboard: [[{ text: '✅ Approve', callback_data: `pay:approve:${payment.id}` }, { text: '❌ Reject', callback_data: `pay:reject:${payment.id}` }]],
    })

    const decided = await decidePayment(h.client, payment.id, { decision: 'approve', adminId: h.adminId, note: 'seen on statement' })
    expect(decided).toMatchObject({
      ok: true,
      message: `Payment #${payment.id} approved`,
      decided: { paymentId: payment.id, outcome: 'approved', decidedBy: h.adminId, decidedAt: expect.any(String), note: 'seen on statement', balanceAfter: '250000' },
    })
    // The answer comes once the ledger has moved: the balance it names is already in the wallet.
    expect(await wallet(userId)).toMatchObject({ confirmed: '250000', pending: '0' })
    expect(await handle.result()).toMatchObject({ status: 'APPROVED', remindersSent: 0 })
    expect(await wallet(userId)).toMatchObject({ confirmed: '250000', pending: '0' })
    expect((await ledgerEntries(h.db, { userId })).map((e) => e.type)).toEqual(['CHARGE_PENDING', 'CHARGE_APPROVED'])
    expect(await h.db('payments').where({ id: payment.id }).first()).toMatchObject({ status: 'APPROVED', decidedBy: h.adminId, note: 'seen on statement' })
    expect(h.telegram.messages('6001').map((m) => m.text)).toEqual([`Payment #${payment.id} (250,000 Toman) was approved.\nNote: seen on statement\nUsable credit: 250,000 Toman`])

    const again = await decidePayment(h.client, payment.id, { decision: 'reject', adminId: h.adminId })
    const decidedAt = decided.ok ? decided.decided?.decidedAt : undefined
    expect(again).toMatchObject({
      ok: false,
      reason: 'already_decided',
      refusal: { reason: 'already_decided', paymentId: payment.id, decision: 'approved', decidedBy: h.adminId, decidedAt, note: 'seen on statement' },
      message: expect.stringMatching(new RegExp(`^Payment #${payment.id} was already approved by admin #${h.adminId} at `)),
    })
  })

  test('rejecting a receipt an agent already sold on leaves the agent negative and starts the credit watch', async () => {
    const agentId = await h.createAgent('spender')
    const { payment } = await submit(agentId, '200000')
    await waitFor('the pending charge', async () => (await wallet(agentId)).pending === '200000')
    const placed = await placeOrder(h.db, h.client, { userId: agentId, planId: h.planId, locationId: h.locationId })
    h.started.add(placed.workflowId)
    await h.client.workflow.getHandle(placed.workflowId).result()

    const decided = await decidePayment(h.client, payment.id, { decision: 'reject', adminId: h.adminId, note: 'fake receipt' })
    expect(decided).toMatchObject({ ok: true, decided: { outcome: 'rejected', note: 'fake receipt', balanceAfter: '-120000' } })
    // No `handle.result()` here: waiting on a result lets the server skip time, and the watch's 24 h would pass.
    expect(await wallet(agentId)).toMatchObject({ confirmed: '-120000', pending: '0', negativeSince: expect.any(Date) })

    const watch = h.client.workflow.getHandle(creditWatchWorkflowId(agentId))
    h.started.add(watch.workflowId)
    const status = await waitFor('the credit watch', async () => {
      const s = await watch.query(creditWatchStatusQuery)
      return s.deadline ? s : undefined
    })
    expect(status).toMatchObject({ agentUserId: agentId, phase: 'watching', disabledAccountIds: [] })
    expect(Date.parse(status.deadline!) - Date.parse(status.negativeSince!)).toBe(24 * 3_600_000)
    // Later tests skip days of time; this watch is checked in its own file.
    await watch.terminate('payment test done')
  })

  test('without a decision the admins are reminded after 1 h and 6 h, and the payment expires at 72 h', async () => {
    const userId = await h.createCustomer('forgotten', { telegramId: '6002' })
    const started = h.telegram.messages(ADMIN_CHAT).length
    const { payment, handle } = await submit(userId, '90000')
    const result = await handle.result()
    expect(result).toMatchObject({ status: 'EXPIRED', decidedBy: null, remindersSent: 2, balanceAfter: '0' })
    const texts = h.telegram.messages(ADMIN_CHAT).slice(started).map((m) => m.text)
    expect(texts).toEqual([
      `🧾 Payment #${payment.id}: 90,000 Toman from forgotten (Card to card)`,
      `⏰ Payment #${payment.id} (90,000 Toman from forgotten) has been waiting 1 h for review.`,
      `⏰ Payment #${payment.id} (90,000 Toman from forgotten) has been waiting 6 h for review.`,
    ])
    const history = await handle.fetchHistory()
    const first = Number(history.events![0]!.eventTime!.seconds)
    const last = Number(history.events!.at(-1)!.eventTime!.seconds)
    expect(last - first).toBeGreaterThanOrEqual(72 * 3600)
    expect(last - first).toBeLessThan(72 * 3600 + 60)
    expect((await ledgerEntries(h.db, { userId })).map((e) => e.type)).toEqual(['CHARGE_PENDING', 'CHARGE_EXPIRED'])
    expect(await wallet(userId)).toMatchObject({ confirmed: '0', pending: '0' })
    expect(await h.db('payments').where({ id: payment.id }).first()).toMatchObject({ status: 'EXPIRED', decidedBy: null })
    expect(h.telegram.messages('6002').map((m) => m.text)).toEqual([`Payment #${payment.id} (90,000 Toman) expired without a review.\nUsable credit: 0 Toman`])

    const late = await decidePayment(h.client, payment.id, { decision: 'approve', adminId: h.adminId })
    expect(late).toMatchObject({ ok: false, reason: 'expired', refusal: { reason: 'expired', paymentId: payment.id }, message: expect.stringMatching(new RegExp(`^Payment #${payment.id} expired at .+ without a decision; it can no longer be approved or rejected$`)) })
    expect((await ledgerEntries(h.db, { userId })).map((e) => e.type)).toEqual(['CHARGE_PENDING', 'CHARGE_EXPIRED'])
    expect(await decidePayment(h.client, 999_999, { decision: 'approve', adminId: h.adminId })).toMatchObject({ ok: false, reason: 'not_found' })
  })

  test('a Telegram flood-control answer delays a notification; it is still sent exactly once', async () => {
    const userId = await h.createCustomer('flooded')
    const before = h.telegram.messages(ADMIN_CHAT).length
    h.telegram.floodNext(1, 3)
    const { payment, handle } = await submit(userId, '1000')
    await decidePayment(h.client, payment.id, { decision: 'approve', adminId: h.adminId })
    await handle.result()
    const asks = h.telegram.messages(ADMIN_CHAT).slice(before).filter((m) => m.text.startsWith(`🧾 Payment #${payment.id}:`))
    expect(asks).toHaveLength(1)
    const calls = h.telegram.calls.filter((c) => c.method === 'sendMessage' && String(c.params.text).startsWith(`🧾 Payment #${payment.id}:`))
    expect(calls).toHaveLength(2)
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(2_900)
    const row = await h.db('notificationsSent').where('key', 'like', `payment-${payment.id}:submitted:%`).first()
    expect(row).toMatchObject({ status: 'sent', attempts: 2 })
  })
})

describe('deciding a payment is an update with a validator', () => {
  const updateEvents = async (handle: Awaited<ReturnType<typeof submit>>['handle']) =>
    ((await handle.fetchHistory()).events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateCompletedEventAttributes)

  test('a reject answers with the outcome once the pending credit is removed; a second decision is refused with the first', async () => {
    const userId = await h.createCustomer('update-rejected', { telegramId: '6010' })
    const { payment, handle } = await submit(userId, '40000')
    await waitFor('the admins to be asked', () => h.telegram.messages(ADMIN_CHAT).some((m) => m.text.includes(`Payment #${payment.id}:`)))
    // Telegram holds the payer's notice back for a while, so the workflow is still running when the second decision comes.
    h.telegram.floodNext(1, 5, (_method, params) => String(params.chat_id) === '6010')
    const rejected = await handle.executeUpdate(decidePaymentUpdate, { args: [{ decision: 'reject', adminId: h.adminId, note: 'no such transfer' }] })
    expect(rejected).toEqual({ paymentId: payment.id, outcome: 'rejected', decidedBy: h.adminId, decidedAt: expect.any(String), note: 'no such transfer', balanceAfter: '0' })
    expect(await wallet(userId)).toMatchObject({ confirmed: '0', pending: '0' })

    const refusal = await refusalOf(handle.executeUpdate(decidePaymentUpdate, { args: [{ decision: 'approve', adminId: h.adminId, note: null }] }))
    expect(refusal).toEqual({ reason: 'already_decided', paymentId: payment.id, decision: 'rejected', decidedBy: h.adminId, decidedAt: rejected.decidedAt, note: 'no such transfer' })
    expect((await handle.describe()).status.name).toBe('RUNNING')
    await expect(handle.executeUpdate(decidePaymentUpdate, { args: [{ decision: 'maybe' as 'approve', adminId: h.adminId, note: null }] })).rejects.toBeInstanceOf(WorkflowUpdateFailedError)
    await handle.result()
    expect((await ledgerEntries(h.db, { userId })).map((e) => e.type)).toEqual(['CHARGE_PENDING', 'CHARGE_REJECTED'])
    // A refused update leaves nothing in the history: one accepted and one completed update, the first.
    expect(await updateEvents(handle)).toHaveLength(2)
    expect(h.telegram.messages('6010').map((m) => m.text)).toEqual([`Payment #${payment.id} (40,000 Toman) was rejected.\nNote: no such transfer\nUsable credit: 0 Toman`])
  })

  test('two admins approving at the same moment: one gets approved, the other "already approved" by the first; one ledger entry', async () => {
    const userId = await h.createCustomer('update-twice', { telegramId: '6011' })
    const { payment, handle } = await submit(userId, '60000')
    await waitFor('the admins to be asked', () => h.telegram.messages(ADMIN_CHAT).some((m) => m.text.includes(`Payment #${payment.id}:`)))
    h.telegram.floodNext(1, 5, (_method, params) => String(params.chat_id) === '6011')
    const secondAdmin = (await createUser(h.db, { username: 'second-admin', role: 'admin', locale: 'en' })).id
    const answers = await Promise.all([
      decidePayment(h.client, payment.id, { decision: 'approve', adminId: h.adminId }),
      decidePayment(h.client, payment.id, { decision: 'approve', adminId: secondAdmin }),
    ])
    const won = answers.filter((a) => a.ok && a.decided)
    const lost = answers.filter((a) => !a.ok)
    expect(won).toHaveLength(1)
    expect(lost).toHaveLength(1)
    const winner = won[0]!.ok ? won[0]!.decided! : expect.unreachable()
    expect(winner).toMatchObject({ outcome: 'approved', balanceAfter: '60000' })
    expect([h.adminId, secondAdmin]).toContain(winner.decidedBy)
    expect(lost[0]).toMatchObject({ reason: 'already_decided', refusal: { decision: 'approved', decidedBy: winner.decidedBy, decidedAt: winner.decidedAt } })
    // Both answers came from the running workflow (its validator), not from the status of a closed one.
    expect((await handle.describe()).status.name).toBe('RUNNING')
    expect((await ledgerEntries(h.db, { userId })).map((e) => e.type)).toEqual(['CHARGE_PENDING', 'CHARGE_APPROVED'])
    expect(await h.db('payments').where({ id: payment.id }).first()).toMatchObject({ status: 'APPROVED', decidedBy: winner.decidedBy })
    await handle.result()
  })
})

describe('a gateway (Zarinpal) payment', () => {
  let zarinpalId: number
  beforeAll(async () => {
    const [method] = await h.db('paymentMethods').insert({ kind: 'ZARINPAL', titleFa: 'زرین‌پال', titleEn: 'Zarinpal gateway' }).returning('id')
    zarinpalId = method.id
  })
  const started = async (handle: Awaited<ReturnType<typeof submit>>['handle']) =>
    waitFor('the payment to start', async () => (await handle.query(paymentStatusQuery)).confirmedBy === 'gateway')

  test('credits nothing and asks no admin until the gateway verifies it; an admin decision is refused; the verification credits it once', async () => {
    const userId = await h.createCustomer('online-payer', { telegramId: '6003' })
    const asked = h.telegram.messages(ADMIN_CHAT).length
    const queued = await countPendingPayments(h.db)
    const { payment, handle } = await submit(userId, '150000', { methodId: zarinpalId })
    await started(handle)
    expect(await wallet(userId)).toMatchObject({ confirmed: '0', pending: '0' })
    expect(await ledgerEntries(h.db, { userId })).toEqual([])
    expect((await listPendingPayments(h.db)).map((p) => p.id)).not.toContain(payment.id)
    expect((await botPendingPayments(h.db, 100)).map((p) => p.id)).not.toContain(payment.id)
    expect(await countPendingPayments(h.db)).toBe(queued)

    const refused = await decidePayment(h.client, payment.id, { decision: 'approve', adminId: h.adminId })
    expect(refused).toEqual({
      ok: false,
      reason: 'paid_online',
      refusal: { reason: 'paid_online', paymentId: payment.id },
      message: `Payment #${payment.id} is paid online; it is confirmed by the gateway, not by an admin`,
    })
    expect(await refusalOf(handle.executeUpdate(decidePaymentUpdate, { args: [{ decision: 'approve', adminId: h.adminId, note: null }] }))).toEqual({
      reason: 'paid_online',
      paymentId: payment.id,
    })
    // Even a decision signalled straight to the workflow (the signal of workflows started before the update) is ignored.
    await handle.signal('decidePayment', { decision: 'reject', adminId: h.adminId, note: 'no' })
    expect(await handle.query(paymentStatusQuery)).toMatchObject({ status: 'PENDING' })

    const verified = { authority: 'A0000000000000000000000000000000001', refId: '9001', amount: '150000' }
    await handle.signal(gatewayVerifiedSignal, verified)
    await handle.signal(gatewayVerifiedSignal, verified)
    expect(await handle.result()).toMatchObject({ status: 'APPROVED', decidedBy: null, note: 'gateway ref 9001', remindersSent: 0, balanceAfter: '150000', confirmedBy: 'gateway' })
    expect((await ledgerEntries(h.db, { userId })).map((e) => e.type)).toEqual(['CHARGE_PENDING', 'CHARGE_APPROVED'])
    expect(await wallet(userId)).toMatchObject({ confirmed: '150000', pending: '0' })
    expect(await h.db('payments').where({ id: payment.id }).first()).toMatchObject({ status: 'APPROVED', decidedBy: null, note: 'gateway ref 9001' })
    expect(h.telegram.messages(ADMIN_CHAT).slice(asked).filter((m) => m.text.includes(`Payment #${payment.id}`))).toEqual([])
    expect(await decidePayment(h.client, payment.id, { decision: 'reject', adminId: h.adminId })).toMatchObject({ ok: false, reason: 'paid_online' })
  })

  test('without a verification it expires after the gateway window (1 h) with nothing credited', async () => {
    const userId = await h.createCustomer('online-gone')
    const { payment, handle } = await submit(userId, '70000', { methodId: zarinpalId })
    expect(await handle.result()).toMatchObject({ status: 'EXPIRED', decidedBy: null, remindersSent: 0, balanceAfter: '0' })
    const history = await handle.fetchHistory()
    const took = Number(history.events!.at(-1)!.eventTime!.seconds) - Number(history.events![0]!.eventTime!.seconds)
    expect(took).toBeGreaterThanOrEqual(3600)
    expect(took).toBeLessThan(3600 + 60)
    expect(await ledgerEntries(h.db, { userId })).toEqual([])
    expect(await h.db('payments').where({ id: payment.id }).first()).toMatchObject({ status: 'EXPIRED', decidedBy: null })
  })

  test('a verification stored on the payment while the window closes is credited, not expired', async () => {
    const userId = await h.createCustomer('online-last-minute')
    const { payment, handle } = await submit(userId, '80000', { methodId: zarinpalId })
    await started(handle)
    // What the web callback stores before it signals; the signal itself is lost here.
    await h.db('payments').where({ id: payment.id }).update({ gatewayAuthority: 'A0000000000000000000000000000000002', gatewayRefId: '9002' })
    expect(await handle.result()).toMatchObject({ status: 'APPROVED', note: 'gateway ref 9002', balanceAfter: '80000' })
    expect((await ledgerEntries(h.db, { userId })).map((e) => e.type)).toEqual(['CHARGE_PENDING', 'CHARGE_APPROVED'])
    expect(await wallet(userId)).toMatchObject({ confirmed: '80000', pending: '0' })
  })
})

describe('submitting a payment', () => {
  test('per-method daily count and amount limits refuse the payment over the limit and write nothing', async () => {
    const [limited] = await h.db('paymentMethods').insert({ kind: 'SHEBA', titleFa: 'شبا', titleEn: 'Sheba', dailyCountLimit: 2, dailyAmountLimit: '300000' }).returning('id')
    const userId = await h.createCustomer('limited')
    await submit(userId, '100000', { methodId: limited.id })
    await expect(submitPayment(h.db, h.client, { userId, methodId: limited.id, amount: '250000' })).rejects.toMatchObject({
      code: 'DAILY_AMOUNT_LIMIT',
      message: '"Sheba" takes at most 300,000 a day; 200,000 is left today',
    })
    await submit(userId, '200000', { methodId: limited.id })
    await expect(submitPayment(h.db, h.client, { userId, methodId: limited.id, amount: '1' })).rejects.toMatchObject({ code: 'DAILY_COUNT_LIMIT' })
    expect(Number((await h.db('payments').where({ methodId: limited.id }).count({ n: '*' }).first())!.n)).toBe(2)
  })

  test('bad input gets a clear refusal', async () => {
    const userId = await h.createCustomer('careless')
    const refused = await submitPayment(h.db, h.client, { userId, methodId, amount: '12.5' }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(PaymentRefusedError)
    expect(refused).toMatchObject({ code: 'INVALID_INPUT', field: 'amount', message: expect.stringMatching(/no fractions/) })
    await expect(submitPayment(h.db, h.client, { userId, methodId: 12345, amount: '10' })).rejects.toMatchObject({ code: 'METHOD_NOT_FOUND' })
    await expect(submitPayment(h.db, h.client, { userId, methodId, amount: '10', orderId: 12345 })).rejects.toMatchObject({ code: 'ORDER_NOT_PAYABLE' })
  })

  test('receipts are checked by content, stored under a random name, and a receipt cannot be submitted twice', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fp-receipts-'))
    try {
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('receipt-body')])
      const stored = await storeReceipt(png, { uploadDir: dir, maxBytes: 1024 })
      expect(stored).toMatchObject({ mime: 'image/png', path: expect.stringMatching(/^receipts\/\d{4}\/\d{2}\/[0-9a-f]{32}\.png$/) })
      await expect(storeReceipt(Buffer.from('<html>not a receipt</html>'), { uploadDir: dir, maxBytes: 1024 })).rejects.toMatchObject({ code: 'RECEIPT_INVALID' })
      await expect(storeReceipt(Buffer.alloc(2048, 0xff), { uploadDir: dir, maxBytes: 1024 })).rejects.toThrow(/at most 1 KB/)

      const userId = await h.createCustomer('receipt-sender')
      await submit(userId, '5000').then(() => undefined)
      const first = await submitPayment(h.db, h.client, { userId, methodId, amount: '5000', receipt: stored })
      h.started.add(first.workflowId)
      await expect(submitPayment(h.db, h.client, { userId, methodId, amount: '5000', receipt: stored })).rejects.toMatchObject({
        code: 'DUPLICATE_RECEIPT',
        message: `This receipt was already submitted as payment #${first.payment.id}`,
      })
      await h.client.workflow.getHandle(first.workflowId).query(paymentStatusQuery)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('replay', () => {
  test('every finished workflow of this file replays without nondeterminism', async () => {
    for (const id of h.started) {
      const handle = h.client.workflow.getHandle(id)
      if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('test file done')
    }
    const { replayed, errors } = await replayHistories(h, h.started, 'payment')
    expect(errors).toEqual([])
    expect(replayed).toBe(h.started.size)
  })
})
