import { adjustManual } from '#db/ledger.ts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { adjustWallet } from '#db/payments.ts'
import { placeOrder } from '#db/orders.ts'
import { creditWatchStatusQuery, PERIODIC_WORKFLOW_ID, periodicStatusQuery, runPeriodicNowSignal } from '#temporal/messages.ts'
import { ensurePeriodicWorkflow } from '#temporal/start.ts'
import { creditWatchWorkflowId } from '#temporal/workflow-ids.ts'
import { GB, replayHistories, startHarness, waitFor, type Harness } from './harness.ts'

let h: Harness

beforeAll(async () => {
  h = await startHarness('periodic', { settings: { periodicIntervalMs: 10 * 60_000, periodicPassesPerRun: 3 } })
})
afterAll(async () => {
  await h?.teardown()
})

async function buyAccount(userId: number): Promise<{ accountId: number; username: string }> {
  await adjustWallet(h.db, h.client, { userId, amount: '150000', note: 'test top-up', actorUserId: h.adminId })
  const placed = await placeOrder(h.db, h.client, { userId, planId: h.planId, locationId: h.locationId })
  h.started.add(placed.workflowId)
  const result = await h.client.workflow.getHandle(placed.workflowId).result()
  return { accountId: result.accountId!, username: `fp_${placed.order.id}` }
}

describe('periodic maintenance', () => {
  test('passes sync usage and expiry, warn once per term, record panel health and continue as new', async () => {
    const heavy = await h.createCustomer('heavy-user', { telegramId: '9101' })
    const expiring = await h.createCustomer('expiring-user', { telegramId: '9102' })
    const a = await buyAccount(heavy)
    const b = await buyAccount(expiring)
    h.marzban.setUsage(a.username, 42 * GB)
    const adapter = await h.deps.panels.adapter(h.panelId)
    await adapter.extend({ username: b.username, newExpiresAt: new Date((await h.env.currentTimeMs()) + 2 * 86_400_000) })
    // An agent who went negative while the credit watch could not be told.
    const agentId = await h.createAgent('unwatched')
    await adjustManual(h.db, { userId: agentId, amount: '-5000', note: 'behind the watch', actorUserId: h.adminId, idempotencyKey: 'unwatched-1' })

    const handle = await ensurePeriodicWorkflow(h.client)
    h.started.add(PERIODIC_WORKFLOW_ID)
    const firstRun = (await handle.describe()).runId
    const first = await waitFor('the first pass', async () => {
      const s = await handle.query(periodicStatusQuery)
      return s.passes >= 1 ? s : undefined
    })
    expect(first.lastPass).toMatchObject({ panelsChecked: 1, panelsHealthy: 1, accountsSynced: 2, warningsSent: 2, problems: [] })
    expect(await h.db('accounts').where({ id: a.accountId }).first()).toMatchObject({ dataUsedBytes: String(42 * GB), usageSyncedAt: expect.any(Date) })
    expect(h.telegram.messages('9101').filter((m) => m.text.includes('has used 84% of its traffic'))).toHaveLength(1)
    expect(h.telegram.messages('9102').filter((m) => m.text.includes('expires within three days'))).toHaveLength(1)
    expect(await h.db('panels').where({ id: h.panelId }).first()).toMatchObject({ healthStatus: 'healthy', healthCheckedAt: expect.any(Date) })
    const watch = h.client.workflow.getHandle(creditWatchWorkflowId(agentId))
    h.started.add(watch.workflowId)
    expect(await waitFor('the credit watch', async () => (await watch.query(creditWatchStatusQuery)).phase)).toBe('watching')

    // A pass with the panel away records it as down and syncs nothing; nobody is warned twice.
    await h.marzban.down()
    try {
      await handle.signal(runPeriodicNowSignal)
      const second = await waitFor('the second pass', async () => {
        const s = await handle.query(periodicStatusQuery)
        return s.passes >= 2 ? s : undefined
      })
      expect(second.lastPass).toMatchObject({ panelsChecked: 1, panelsHealthy: 0, accountsSynced: 0 })
      expect(second.lastPass!.problems.join('\n')).toMatch(/fake-marzban/)
      expect(await h.db('panels').where({ id: h.panelId }).first()).toMatchObject({ healthStatus: 'down' })
    } finally {
      await h.marzban.up()
    }
    await h.env.sleep('10m')
    await waitFor('the third pass', async () => (await handle.query(periodicStatusQuery)).passes >= 3)
    expect(await h.db('panels').where({ id: h.panelId }).first()).toMatchObject({ healthStatus: 'healthy' })
    expect(h.telegram.messages('9101')).toHaveLength(2) // the delivery and one warning
    expect(h.telegram.messages('9102')).toHaveLength(2)

    // After its passes the run continues as new, keeping the count.
    await h.env.sleep('10m')
    const next = await waitFor('the next run of the chain', async () => {
      const d = await handle.describe()
      return d.runId !== firstRun ? d : undefined
    })
    expect(next.status.name).toBe('RUNNING')
    expect((await h.client.workflow.getHandle(PERIODIC_WORKFLOW_ID).query(periodicStatusQuery)).passes).toBeGreaterThanOrEqual(3)
    // Ensuring it again (every worker start does) finds the running chain instead of starting another.
    expect((await ensurePeriodicWorkflow(h.client)).firstExecutionRunId).toBe(next.runId)
    await h.client.workflow.getHandle(PERIODIC_WORKFLOW_ID).terminate('test done')
    // The watch is tested in its own file; every pass re-ensured it while the agent stayed negative.
    await watch.terminate('test done')
  })
})

describe('replay', () => {
  test('every finished workflow of this file replays without nondeterminism', async () => {
    const { replayed, errors } = await replayHistories(h, h.started, 'periodic')
    expect(errors).toEqual([])
    expect(replayed).toBe(h.started.size)
  })
})
