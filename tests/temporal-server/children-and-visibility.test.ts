import { WorkflowFailedError } from '@temporalio/client'
import { Worker } from '@temporalio/worker'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { conformanceBundle, startSuite, type Suite } from './helpers.ts'
import * as workflows from './workflows/index.ts'

let suite: Suite
beforeAll(async () => {
  suite = await startSuite('children')
})
afterAll(async () => {
  await suite?.teardown()
})

describe('child workflows', () => {
  test('a child result reaches the parent', async () => {
    const { env, taskQueue } = suite
    expect(await env.client.workflow.execute(workflows.parentOfSuccess, { taskQueue, workflowId: suite.id('child-ok') })).toBe('from child')
  })

  test('a child failure reaches the parent as ChildWorkflowFailure', async () => {
    const { env, taskQueue } = suite
    expect(await env.client.workflow.execute(workflows.parentOfFailure, { taskQueue, workflowId: suite.id('child-fail') })).toBe(
      'child failed: child broke',
    )
  })

  test('a parent can cancel its child', async () => {
    const { env, taskQueue } = suite
    const workflowId = suite.id('child-cancel')
    expect(await env.client.workflow.execute(workflows.parentCancelsChild, { taskQueue, workflowId })).toBe('child cancelled')
    const child = await env.client.workflow.getHandle(`${workflowId}-child`).describe()
    expect(child.status.name).toBe('CANCELLED')
    expect(child.parentExecution?.workflowId).toBe(workflowId)
  })

  test('a parent signals its child directly and through an external handle', async () => {
    const { env, taskQueue } = suite
    expect(await env.client.workflow.execute(workflows.parentSignalsChild, { taskQueue, workflowId: suite.id('child-signal') })).toEqual(['one', 'two'])
  })

  test('parent close policies terminate or abandon the child', async () => {
    const { env, taskQueue } = suite
    const terminated = await env.client.workflow.execute(workflows.parentAbandonsOrTerminates, { taskQueue, workflowId: suite.id('pcp-t'), args: ['terminate'] })
    const abandoned = await env.client.workflow.execute(workflows.parentAbandonsOrTerminates, { taskQueue, workflowId: suite.id('pcp-a'), args: ['abandon'] })
    expect((await env.client.workflow.getHandle(terminated).describe()).status.name).toBe('TERMINATED')
    const handle = env.client.workflow.getHandle(abandoned)
    expect((await handle.describe()).status.name).toBe('RUNNING')
    await handle.terminate()
  })

  test('a workflow can cancel another workflow', async () => {
    const { env, taskQueue, log } = suite
    const targetKey = suite.id('external-cancel-target')
    const target = await env.client.workflow.start(workflows.cancellableWithCleanup, { taskQueue, workflowId: targetKey, args: [targetKey] })
    expect(await env.client.workflow.execute(workflows.cancelExternal, { taskQueue, workflowId: suite.id('canceller'), args: [targetKey] })).toBe('requested')
    await expect(target.result()).rejects.toBeInstanceOf(WorkflowFailedError)
    expect(log.cleanups).toContain(`workflow:${targetKey}`)
  })
})

describe('visibility', () => {
  test('list and count filter by type, id, status and time', async () => {
    const { env, taskQueue } = suite
    const prefix = suite.id('vis')
    const before = new Date(await env.currentTimeMs()).toISOString()
    await env.client.workflow.execute(workflows.quick, { taskQueue, workflowId: `${prefix}-a`, args: ['a'] })
    await env.client.workflow.execute(workflows.quick, { taskQueue, workflowId: `${prefix}-b`, args: ['b'] })
    const running = await env.client.workflow.start(workflows.collector, { taskQueue, workflowId: `${prefix}-c` })

    const ids = async (query: string) => {
      const out: string[] = []
      for await (const info of env.client.workflow.list({ query })) out.push(info.workflowId)
      return out.sort()
    }
    expect(await ids(`WorkflowType = 'quick' AND WorkflowId STARTS_WITH '${prefix}'`)).toEqual([`${prefix}-a`, `${prefix}-b`])
    expect(await ids(`WorkflowId = '${prefix}-c' AND ExecutionStatus = 'Running'`)).toEqual([`${prefix}-c`])
    expect(await ids(`(WorkflowId = '${prefix}-a' OR WorkflowId = '${prefix}-c') AND StartTime >= '${before}'`)).toEqual([`${prefix}-a`, `${prefix}-c`])
    expect(await ids(`WorkflowId IN ('${prefix}-a', '${prefix}-b') AND ExecutionStatus != 'Completed'`)).toEqual([])

    const count = await env.client.workflow.count(`WorkflowId STARTS_WITH '${prefix}'`)
    expect(count.count).toBe(3)
    const grouped = await env.client.workflow.count(`WorkflowId STARTS_WITH '${prefix}' GROUP BY ExecutionStatus`)
    const groups = Object.fromEntries(grouped.groups.map((g) => [String(g.groupValues[0]), g.count]))
    expect(groups).toEqual({ Completed: 2, Running: 1 })
    await running.terminate()
  })

  test('an unsupported query is rejected rather than answered with everything', async () => {
    const { env } = suite
    const error = await env.client.workflow.count(`WorkflowId LIKE 'x%'`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(String((error as Error).cause)).toMatch(/unsupported query/)
  })
})

describe('replay', () => {
  test('recorded histories replay cleanly with Worker.runReplayHistory', async () => {
    const { env, taskQueue } = suite
    const handles = [
      await env.client.workflow.start(workflows.parentOfSuccess, { taskQueue, workflowId: suite.id('replay-child') }),
      await env.client.workflow.start(workflows.retryThenSucceed, { taskQueue, workflowId: suite.id('replay-retry'), args: [{ key: suite.id('r'), succeedOn: 2 }] }),
      await env.client.workflow.start(workflows.cancelTimer, { taskQueue, workflowId: suite.id('replay-timer'), args: [{ waitMs: suite.pick(60_000, 200) }] }),
      await env.client.workflow.signalWithStart(workflows.collector, {
        taskQueue,
        workflowId: suite.id('replay-signal'),
        args: [{ expect: 2 }],
        signal: workflows.addItemSignal,
        signalArgs: ['x'],
      }),
    ]
    await handles[3]!.signal(workflows.addItemSignal, 'y')
    const histories = []
    for (const handle of handles) {
      await handle.result()
      histories.push({ workflowId: handle.workflowId, history: await handle.fetchHistory() })
    }
    const workflowBundle = await conformanceBundle()
    const results = []
    for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) results.push(result)
    expect(results.map((r) => r.error)).toEqual([undefined, undefined, undefined, undefined])
    expect(results).toHaveLength(4)
  })

  test('a history that does not match the code is reported as non-deterministic', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.start(workflows.greeting, { taskQueue, workflowId: suite.id('replay-nondeterminism'), args: ['x'] })
    await handle.result()
    const history = await handle.fetchHistory()
    // Pretend the history came from a different workflow type: replaying `cancelTimer` against it must fail.
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!
    started.workflowType = { name: 'cancelTimer' }
    await expect(Worker.runReplayHistory({ workflowBundle: await conformanceBundle() }, history, handle.workflowId)).rejects.toThrow()
  })
})

test('every workflow history recorded in this file replays cleanly', async () => {
  const { replayed, failures } = await suite.replayAll()
  expect(failures).toEqual([])
  expect(replayed).toBeGreaterThan(0)
})
