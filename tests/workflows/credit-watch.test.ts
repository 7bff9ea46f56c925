import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { adjustWallet } from '#db/payments.ts'
import { placeOrder } from '#db/orders.ts'
import { creditWatchStatusQuery, type CreditWatchResult } from '#temporal/messages.ts'
import { creditWatchWorkflowId } from '#temporal/workflow-ids.ts'
import { ADMIN_CHAT, panelUsers, replayHistories, startHarness, waitFor, type Harness } from './harness.ts'

let h: Harness

beforeAll(async () => {
  h = await startHarness('credit_watch')
})
afterAll(async () => {
  await h?.teardown()
})

async function adjust(userId: number, amount: string) {
  await adjustWallet(h.db, h.client, { userId, amount, note: 'test adjustment', actorUserId: h.adminId })
}

/** An agent with `count` delivered accounts, and no credit left. */
async function agentWithAccounts(name: string, count: number, telegramId?: string): Promise<{ agentId: number; accountIds: number[]; usernames: string[] }> {
  const agentId = await h.createAgent(name, { telegramId })
  await adjust(agentId, String(120_000 * count))
  const accountIds: number[] = []
  for (let i = 0; i < count; i++) {
    const placed = await placeOrder(h.db, h.client, { userId: agentId, planId: h.planId, locationId: h.locationId })
    h.started.add(placed.workflowId)
    const result = await h.client.workflow.getHandle(placed.workflowId).result()
    accountIds.push(result.accountId)
  }
  const rows = await h.db('accounts').whereIn('id', accountIds).orderBy('id').select('panelUsername')
  return { agentId, accountIds, usernames: rows.map((r: { panelUsername: string }) => r.panelUsername) }
}

const panelStatus = (username: string) => panelUsers(h.marzban).find((u) => u.username === username)?.status
const dbAccount = (id: number) => h.db('accounts').where({ id }).first('status', 'disabledReason')

describe('the 24-hour rule', () => {
  test('negative for 23 hours, then topped up: nothing is disabled', async () => {
    const { agentId, accountIds, usernames } = await agentWithAccounts('quick-payer', 2)
    await adjust(agentId, '-50000')
    const watch = h.client.workflow.getHandle<() => Promise<CreditWatchResult>>(creditWatchWorkflowId(agentId))
    h.started.add(watch.workflowId)
    await waitFor('the watch to start', async () => (await watch.query(creditWatchStatusQuery)).deadline)

    await h.env.sleep('23h')
    expect(await watch.query(creditWatchStatusQuery)).toMatchObject({ phase: 'watching', disabledAccountIds: [] })
    await adjust(agentId, '50000')
    expect(await watch.result()).toEqual({ agentUserId: agentId, outcome: 'cleared', disabledAccountIds: [], reEnabledAccountIds: [] })
    expect(usernames.map(panelStatus)).toEqual(['active', 'active'])
    for (const id of accountIds) expect(await dbAccount(id)).toEqual({ status: 'active', disabledReason: null })
  })

  test('negative for 24 hours: every active account is disabled on the panel; credit back: exactly those are enabled again', async () => {
    const bystander = await agentWithAccounts('bystander', 1)
    const { agentId, accountIds, usernames } = await agentWithAccounts('late-payer', 3, '7001')
    // An admin disabled the third account on their own; the rule must not touch it.
    const adapter = await h.deps.panels.adapter(h.panelId)
    await adapter.disable(usernames[2]!)
    await h.db('accounts').where({ id: accountIds[2] }).update({ status: 'disabled', disabledReason: 'admin' })

    await adjust(agentId, '-50000')
    const watch = h.client.workflow.getHandle<() => Promise<CreditWatchResult>>(creditWatchWorkflowId(agentId))
    h.started.add(watch.workflowId)
    await waitFor('the watch to start', async () => (await watch.query(creditWatchStatusQuery)).deadline)

    await h.env.sleep('24h')
    const disabled = await waitFor('the accounts to be disabled', async () => {
      const s = await watch.query(creditWatchStatusQuery)
      return s.phase === 'disabled' && s.disabledAccountIds.length === 2 ? s : undefined
    })
    expect(disabled.disabledAccountIds).toEqual(accountIds.slice(0, 2))
    expect(usernames.map(panelStatus)).toEqual(['disabled', 'disabled', 'disabled'])
    expect(await dbAccount(accountIds[0]!)).toEqual({ status: 'disabled', disabledReason: 'negative_credit' })
    expect(await dbAccount(accountIds[1]!)).toEqual({ status: 'disabled', disabledReason: 'negative_credit' })
    expect(await dbAccount(accountIds[2]!)).toEqual({ status: 'disabled', disabledReason: 'admin' })
    expect(panelStatus(bystander.usernames[0]!)).toBe('active')
    await waitFor('the agent to be told', () => h.telegram.messages('7001').some((m) => m.text.includes('2 accounts were disabled')))
    await waitFor('the admins to be told', () => h.telegram.messages(ADMIN_CHAT).some((m) => m.text.startsWith("⛔️ late-payer's credit stayed negative (-50,000 Toman)")))

    await expect(placeOrder(h.db, h.client, { userId: agentId, planId: h.planId, locationId: h.locationId })).rejects.toMatchObject({ code: 'NEGATIVE_CREDIT' })

    // A partial top-up leaves the credit negative: nothing comes back yet.
    await adjust(agentId, '20000')
    await new Promise((r) => setTimeout(r, 300))
    expect(await watch.query(creditWatchStatusQuery)).toMatchObject({ phase: 'disabled' })
    expect(usernames.map(panelStatus)).toEqual(['disabled', 'disabled', 'disabled'])

    await adjust(agentId, '30000')
    expect(await watch.result()).toEqual({ agentUserId: agentId, outcome: 'restored', disabledAccountIds: accountIds.slice(0, 2), reEnabledAccountIds: accountIds.slice(0, 2) })
    expect(usernames.map(panelStatus)).toEqual(['active', 'active', 'disabled'])
    expect(await dbAccount(accountIds[0]!)).toEqual({ status: 'active', disabledReason: null })
    expect(await dbAccount(accountIds[2]!)).toEqual({ status: 'disabled', disabledReason: 'admin' })
    expect(h.telegram.messages('7001').some((m) => m.text.includes('2 accounts were enabled again'))).toBe(true)
  })
})

describe('replay', () => {
  test('every finished workflow of this file replays without nondeterminism', async () => {
    const { replayed, errors } = await replayHistories(h, h.started, 'credit-watch')
    expect(errors).toEqual([])
    expect(replayed).toBe(h.started.size)
  })
})
