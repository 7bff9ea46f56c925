import { WorkflowNotFoundError } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { adjustManual } from '#db/ledger.ts'
import { adjustWallet } from '#db/payments.ts'
import { placeOrder } from '#db/orders.ts'
import { creditWatchStatusQuery, PERIODIC_SCHEDULE_ID, WORKFLOW_TYPES, type PeriodicPassInput, type PeriodicPassSummary } from '#temporal/messages.ts'
import { ensurePeriodicSchedule } from '#temporal/periodic.ts'
import { MAIN_TASK_QUEUE } from '#temporal/task-queues.ts'
import { creditWatchWorkflowId } from '#temporal/workflow-ids.ts'
import { GB, replayHistories, startHarness, waitFor, type Harness } from './harness.ts'

/**
 * One pass of periodic maintenance (`periodicPass`), on the time-skipping test server, which has no schedules: the
 * test starts each pass itself, as the `periodic-maintenance` schedule would (tests/workflows/periodic-schedule.test.ts
 * tests the schedule on the dev server).
 */
let h: Harness

beforeAll(async () => {
  h = await startHarness('periodic')
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

let passes = 0
/** Runs one pass to its end, with an id like the schedule's (its id plus a time). */
async function runPass(): Promise<PeriodicPassSummary> {
  const workflowId = `${PERIODIC_SCHEDULE_ID}-test-${++passes}`
  h.started.add(workflowId)
  const args: [PeriodicPassInput] = [{}]
  return h.client.workflow.execute<(input: PeriodicPassInput) => Promise<PeriodicPassSummary>>(WORKFLOW_TYPES.periodicPass, { taskQueue: MAIN_TASK_QUEUE, workflowId, args })
}

describe('a periodic maintenance pass', () => {
  test('syncs usage and expiry, warns once per term, records panel health, and reports a panel that is away without failing', async () => {
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
    await h.db('panels').where({ id: h.panelId }).update({ healthCheckedAt: null })

    const first = await runPass()
    expect(first).toMatchObject({ panelsChecked: 1, panelsHealthy: 1, accountsSynced: 2, warningsSent: 2, problems: [] })
    expect(Date.parse(first.at)).toBeGreaterThan(0)
    expect(await h.db('accounts').where({ id: a.accountId }).first()).toMatchObject({ dataUsedBytes: String(42 * GB), usageSyncedAt: expect.any(Date) })
    expect(h.telegram.messages('9101').filter((m) => m.text.includes('has used 84% of its traffic'))).toHaveLength(1)
    expect(h.telegram.messages('9102').filter((m) => m.text.includes('expires within three days'))).toHaveLength(1)
    expect(await h.db('panels').where({ id: h.panelId }).first()).toMatchObject({ healthStatus: 'healthy', healthCheckedAt: expect.any(Date) })
    const watch = h.client.workflow.getHandle(creditWatchWorkflowId(agentId))
    h.started.add(watch.workflowId)
    expect(await waitFor('the credit watch', async () => (await watch.query(creditWatchStatusQuery)).phase)).toBe('watching')

    // The panel away: recorded as down, nothing synced, the pass still completes and says why.
    await h.marzban.down()
    try {
      const second = await runPass()
      expect(second).toMatchObject({ panelsChecked: 1, panelsHealthy: 0, accountsSynced: 0, warningsSent: 0 })
      expect(second.problems.join('\n')).toMatch(/fake-marzban/)
      expect(await h.db('panels').where({ id: h.panelId }).first()).toMatchObject({ healthStatus: 'down' })
    } finally {
      await h.marzban.up()
    }

    // Back again: healthy, synced, and nobody is warned a second time for the same term.
    const third = await runPass()
    expect(third).toMatchObject({ panelsHealthy: 1, accountsSynced: 2, warningsSent: 0, problems: [] })
    expect(await h.db('panels').where({ id: h.panelId }).first()).toMatchObject({ healthStatus: 'healthy' })
    expect(h.telegram.messages('9101')).toHaveLength(2) // the delivery and one warning
    expect(h.telegram.messages('9102')).toHaveLength(2)

    // The watch is tested in its own file; the passes only had to make sure it runs. Waiting on the passes' results
    // lets the test server skip time, so the watch may have run its course by now.
    await watch.terminate('test done').catch((error: unknown) => {
      if (!(error instanceof WorkflowNotFoundError)) throw error
    })
  })
})

describe('on a server without schedules', () => {
  test('ensuring the schedule fails with what to do instead of a bare UNIMPLEMENTED', async () => {
    await expect(ensurePeriodicSchedule(h.client, { intervalMs: 10 * 60_000 })).rejects.toThrow(
      /does not implement schedules.*--no-periodic$/,
    )
  })
})

describe('replay', () => {
  test('every finished workflow of this file replays without nondeterminism', async () => {
    const { replayed, errors } = await replayHistories(h, h.started, 'periodic')
    expect(errors).toEqual([])
    expect(replayed).toBe(h.started.size)
  })
})
