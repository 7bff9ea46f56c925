import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { previewRefund, RefundRefusedError, requestRefund } from '#db/accounts.ts'
import { adjustWallet } from '#db/payments.ts'
import { placeOrder } from '#db/orders.ts'
import { refundStatusQuery, type RefundResult } from '#temporal/messages.ts'
import { MAIN_TASK_QUEUE } from '#temporal/task-queues.ts'
import { GB, ledgerEntries, panelUsers, replayHistories, startHarness, waitFor, type Harness } from './harness.ts'

let h: Harness
const DAY = 86_400_000

beforeAll(async () => {
  h = await startHarness('refund')
})
afterAll(async () => {
  await h?.teardown()
})

async function buyAccount(userId: number): Promise<{ accountId: number; orderId: number; username: string }> {
  await adjustWallet(h.db, h.client, { userId, amount: '150000', note: 'test top-up', actorUserId: h.adminId })
  const placed = await placeOrder(h.db, h.client, { userId, planId: h.planId, locationId: h.locationId })
  h.started.add(placed.workflowId)
  // Bought "just now": waiting must not move the test server's clock past the account's term.
  const result = await h.realTimeClient.workflow.getHandle(placed.workflowId).result()
  return { accountId: result.accountId!, orderId: placed.order.id, username: `fp_${placed.order.id}` }
}

async function refund(accountId: number, requestedBy: number) {
  const started = await requestRefund(h.db, h.client, { accountId, requestedBy, reason: 'no longer needed' })
  h.started.add(started.workflowId)
  return { ...started, handle: h.realTimeClient.workflow.getHandle<() => Promise<RefundResult>>(started.workflowId) }
}

describe('refund', () => {
  test('deleting a fresh account refunds its full price after the panel user is gone', async () => {
    const userId = await h.createCustomer('regretful', { telegramId: '8001' })
    const { accountId, orderId, username } = await buyAccount(userId)
    const preview = await previewRefund(h.db, { accountId, requestedBy: userId, now: await h.env.currentTimeMs() })
    expect(preview.quote).toMatchObject({ amount: 150_000n, rule: 'full_window' })

    const { handle } = await refund(accountId, userId)
    expect(await handle.result()).toEqual({ accountId, amount: '150000', rule: 'full_window', panelAction: 'delete' })
    expect(panelUsers(h.marzban).find((u) => u.username === username)).toBeUndefined()
    expect(await h.db('accounts').where({ id: accountId }).first()).toMatchObject({ status: 'deleted', deletedAt: expect.any(Date) })
    expect(await h.db('orders').where({ id: orderId }).first()).toMatchObject({ status: 'refunded' })
    expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: orderId })).map((e) => [e.type, e.confirmedDelta])).toEqual([
      ['ORDER_DEBIT', '-150000'],
      ['ORDER_REFUND', '150000'],
    ])
    expect(h.telegram.messages('8001').at(-1)!.text).toBe(`Account ${username} was removed and 150,000 Toman returned to your wallet.`)
    await expect(requestRefund(h.db, h.client, { accountId, requestedBy: userId, reason: 'again' })).rejects.toMatchObject({ code: 'ALREADY_DELETED' })
  })

  test('half-way through its term an account is refunded by the larger of used time and used traffic', async () => {
    const userId = await h.createCustomer('halfway')
    const { accountId } = await buyAccount(userId)
    const now = await h.env.currentTimeMs()
    await h.db('accounts')
      .where({ id: accountId })
      .update({ createdAt: new Date(now - 15 * DAY), expiresAt: new Date(now + 15 * DAY), dataUsedBytes: String(10 * GB) })
    const { handle } = await refund(accountId, h.adminId)
    const result = await handle.result()
    expect(result.rule).toBe('prorated')
    // 50 % of the time is used (more than the 20 % of traffic): about half comes back, never more.
    expect(Number(result.amount)).toBeGreaterThan(74_000)
    expect(Number(result.amount)).toBeLessThanOrEqual(75_000)
  })

  test('while the panel is unreachable nothing is refunded; once it answers the refund completes', async () => {
    const userId = await h.createCustomer('patient')
    const { accountId, orderId, username } = await buyAccount(userId)
    await h.marzban.down()
    let handle: Awaited<ReturnType<typeof refund>>['handle'] | undefined
    try {
      ;({ handle } = await refund(accountId, userId))
      const running = handle
      await h.env.sleep('2h')
      const status = await waitFor('a failed removal', async () => {
        const s = await running.query(refundStatusQuery)
        return s.lastError ? s : undefined
      })
      expect(status).toMatchObject({ step: 'removing', amount: '150000' })
      expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: orderId })).map((e) => e.type)).toEqual(['ORDER_DEBIT'])
      expect(await h.db('accounts').where({ id: accountId }).first()).toMatchObject({ status: 'active' })
    } finally {
      await h.marzban.up()
    }
    // Its next attempt waits on a backoff timer: this wait lets the test server skip to it.
    expect(await h.client.workflow.getHandle<() => Promise<RefundResult>>(handle!.workflowId).result()).toMatchObject({ amount: '150000' })
    expect(panelUsers(h.marzban).find((u) => u.username === username)).toBeUndefined()
    expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: orderId })).map((e) => e.type)).toEqual(['ORDER_DEBIT', 'ORDER_REFUND'])
  })

  test('only the owner (or an admin) may delete an account for a refund, and agents only when allowed', async () => {
    const owner = await h.createCustomer('owner')
    const stranger = await h.createCustomer('stranger')
    const { accountId } = await buyAccount(owner)
    const refused = await requestRefund(h.db, h.client, { accountId, requestedBy: stranger, reason: 'mine now' }).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(RefundRefusedError)
    expect(refused).toMatchObject({ code: 'NOT_ALLOWED', message: `Account ${accountId} is not one of your accounts` })

    const agentId = await h.createAgent('restricted-agent')
    await h.db('agents').where({ userId: agentId }).update({ mayDeleteForRefund: false })
    const agentAccount = await buyAccount(agentId)
    await expect(requestRefund(h.db, h.client, { accountId: agentAccount.accountId, requestedBy: agentId, reason: 'x' })).rejects.toMatchObject({
      code: 'NOT_ALLOWED',
      message: expect.stringMatching(/does not allow deleting accounts/),
    })
    await expect(requestRefund(h.db, h.client, { accountId: 99_999, requestedBy: h.adminId, reason: 'x' })).rejects.toMatchObject({ code: 'ACCOUNT_NOT_FOUND' })
    await expect(h.client.workflow.getHandle(`refund-${accountId}`).describe()).rejects.toThrow()
  })

  test('a reason Postgres would refuse is refused before the panel is touched, by the service and by the workflow itself', async () => {
    const userId = await h.createCustomer('nul-reason')
    const { accountId, username } = await buyAccount(userId)
    for (const reason of ['a\u0000b', 'line\nbreak', 'x\u001by', 'x'.repeat(301)]) {
      await expect(requestRefund(h.db, h.client, { accountId, requestedBy: userId, reason })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    }
    await expect(h.client.workflow.getHandle(`refund-${accountId}`).describe()).rejects.toThrow()

    // Started around the service (an old caller, a hand-made start): the workflow refuses its input before any step.
    const handle = await h.realTimeClient.workflow.start('refundAccount', {
      taskQueue: MAIN_TASK_QUEUE,
      workflowId: `refund-raw-${accountId}`,
      args: [{ accountId, requestedBy: userId, reason: 'a\u0000b' }],
    })
    h.started.add(handle.workflowId)
    await expect(handle.result()).rejects.toMatchObject({ cause: { type: 'InvalidRefundInput', message: expect.stringMatching(/control characters/) } })
    expect(panelUsers(h.marzban).find((u) => u.username === username)).toMatchObject({ status: 'active' })
    expect(await h.db('accounts').where({ id: accountId }).first()).toMatchObject({ status: 'active' })
    expect(await ledgerEntries(h.db, { type: 'ORDER_REFUND', userId })).toEqual([])
  })
})

describe('replay', () => {
  test('every finished workflow of this file replays without nondeterminism', async () => {
    const { replayed, errors } = await replayHistories(h, h.started, 'refund')
    expect(errors).toEqual([])
    expect(replayed).toBe(h.started.size)
  })
})
