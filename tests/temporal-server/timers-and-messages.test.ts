import { WorkflowIdConflictPolicy } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startSuite, type Suite } from './helpers.ts'
import * as workflows from './workflows/index.ts'

let suite: Suite
beforeAll(async () => {
  suite = await startSuite('timers-messages')
})
afterAll(async () => {
  await suite?.teardown()
})

const DAY = 24 * 60 * 60 * 1000

describe('timers', () => {
  // The real time it takes is printed by `npm run bench:temporal`; here it only has to be far below 30 days.
  test('a 30-day timer completes without waiting in real time', async () => {
    const { env, taskQueue } = suite
    const duration = suite.pick(30 * DAY, 1000)
    const before = await env.currentTimeMs()
    const started = Date.now()
    const elapsed = await env.client.workflow.execute(workflows.sleeper, { taskQueue, workflowId: suite.id('sleep-30d'), args: [duration] })
    const realMs = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(duration)
    expect(await env.currentTimeMs()).toBeGreaterThanOrEqual(before + duration)
    expect(realMs).toBeLessThan(30_000)
  })

  test('a cancelled timer never fires and the workflow goes on', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.start(workflows.cancelTimer, {
      taskQueue,
      workflowId: suite.id('cancel-timer'),
      args: [{ waitMs: suite.pick(60_000, 500) }],
    })
    expect(await handle.result()).toBe('cancelled')
    const history = await handle.fetchHistory()
    const types = history.events!.map((e) => e.eventType)
    const { temporal } = await import('@temporalio/proto')
    const E = temporal.api.enums.v1.EventType
    expect(types.filter((t) => t === E.EVENT_TYPE_TIMER_STARTED)).toHaveLength(3)
    expect(types.filter((t) => t === E.EVENT_TYPE_TIMER_CANCELED)).toHaveLength(1)
    expect(types.filter((t) => t === E.EVENT_TYPE_TIMER_FIRED)).toHaveLength(2)
  })

  test('the earlier of two timers wins a race', async () => {
    const { env, taskQueue } = suite
    const args = [suite.pick({ shortMs: 2 * 3_600_000, longMs: 3 * 3_600_000 }, { shortMs: 500, longMs: 1500 })] as const
    expect(await env.client.workflow.execute(workflows.timerRace, { taskQueue, workflowId: suite.id('race'), args: [...args] })).toBe('short')
  })

  test('env.sleep moves virtual time while a workflow waits', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.start(workflows.waitForSignalOrTimeout, {
      taskQueue,
      workflowId: suite.id('env-sleep'),
      args: [suite.pick(7 * DAY, 10_000)],
    })
    const sleepMs = suite.pick(3 * DAY, 500)
    const before = await env.currentTimeMs()
    const started = Date.now()
    await env.sleep(sleepMs)
    expect(await env.currentTimeMs()).toBeGreaterThanOrEqual(before + sleepMs)
    expect(Date.now() - started).toBeLessThan(30_000)
    await handle.signal(workflows.addItemSignal, 'late')
    expect(await handle.result()).toBe('got late')
  })

  test('a condition timeout elapses in virtual time', async () => {
    const { env, taskQueue } = suite
    const timeoutMs = suite.pick(7 * DAY, 500)
    expect(await env.client.workflow.execute(workflows.waitForSignalOrTimeout, { taskQueue, workflowId: suite.id('condition-timeout'), args: [timeoutMs] })).toBe(
      'timed out',
    )
  })
})

describe('signals and queries', () => {
  test('signals sent after start are delivered in order', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.start(workflows.collector, { taskQueue, workflowId: suite.id('signals') })
    await handle.signal(workflows.addItemSignal, 'a')
    await handle.signal(workflows.addItemSignal, 'b')
    await handle.signal(workflows.addItemSignal, 'c')
    await handle.signal(workflows.finishSignal)
    expect(await handle.result()).toEqual(['a', 'b', 'c'])
  })

  test('signal-with-start delivers the signal before the first workflow task', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.signalWithStart(workflows.collector, {
      taskQueue,
      workflowId: suite.id('sws'),
      args: [{ expect: 1 }],
      signal: workflows.addItemSignal,
      signalArgs: ['first'],
    })
    expect(await handle.result()).toEqual(['first'])
  })

  test('signal-with-start on a running workflow signals it', async () => {
    const { env, taskQueue } = suite
    const workflowId = suite.id('sws-running')
    const first = await env.client.workflow.start(workflows.collector, { taskQueue, workflowId, args: [{ expect: 2 }] })
    await first.signal(workflows.addItemSignal, 'one')
    const second = await env.client.workflow.signalWithStart(workflows.collector, {
      taskQueue,
      workflowId,
      args: [{ expect: 2 }],
      signal: workflows.addItemSignal,
      signalArgs: ['two'],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    })
    expect(second.signaledRunId).toBe(first.firstExecutionRunId)
    expect(await first.result()).toEqual(['one', 'two'])
  })

  test('a burst of signals during workflow tasks is never lost', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.start(workflows.collector, { taskQueue, workflowId: suite.id('burst'), args: [{ expect: 30 }] })
    await Promise.all(Array.from({ length: 30 }, (_, i) => handle.signal(workflows.addItemSignal, `item-${i}`)))
    const items = await handle.result()
    expect(items).toHaveLength(30)
    expect(new Set(items).size).toBe(30)
  })

  test('queries answer during and after a run', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.start(workflows.collector, { taskQueue, workflowId: suite.id('query') })
    expect(await handle.query(workflows.stageQuery)).toBe('collecting')
    await handle.signal(workflows.addItemSignal, 'x')
    expect(await handle.query(workflows.itemsQuery)).toEqual(['x'])
    await handle.signal(workflows.finishSignal)
    await handle.result()
    expect(await handle.query(workflows.stageQuery)).toBe('done')
    expect(await handle.query(workflows.itemsQuery)).toEqual(['x'])
  })

  test('an unknown query fails with QueryNotRegisteredError', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.start(workflows.collector, { taskQueue, workflowId: suite.id('query-unknown') })
    await expect(handle.query('noSuchQuery')).rejects.toThrow(/noSuchQuery/)
    await handle.signal(workflows.finishSignal)
    await handle.result()
  })

  test('signalling a finished workflow is rejected', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.start(workflows.collector, { taskQueue, workflowId: suite.id('signal-closed'), args: [{ expect: 0 }] })
    await handle.result()
    await expect(handle.signal(workflows.addItemSignal, 'late')).rejects.toThrow()
  })
})

test('every workflow history recorded in this file replays cleanly', async () => {
  const { replayed, failures } = await suite.replayAll()
  expect(failures).toEqual([])
  expect(replayed).toBeGreaterThan(0)
})
