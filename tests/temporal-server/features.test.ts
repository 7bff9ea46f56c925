import { TimeoutFailure, WorkflowFailedError } from '@temporalio/client'
import { temporal } from '@temporalio/proto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startSuite, type Suite } from './helpers.ts'
import * as workflows from './workflows/index.ts'

let suite: Suite
beforeAll(async () => {
  suite = await startSuite('features')
})
afterAll(async () => {
  await suite?.teardown()
})

describe('timeouts of the workflow itself', () => {
  test('a workflow execution timeout ends the run as timed out', async () => {
    const { env, taskQueue } = suite
    const started = Date.now()
    const error = await env.client.workflow
      .execute(workflows.longRunning, { taskQueue, workflowId: suite.id('wf-timeout'), workflowExecutionTimeout: suite.pick('2 days', '2s') })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WorkflowFailedError)
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(TimeoutFailure)
    expect(Date.now() - started).toBeLessThan(30_000)
  })
})

describe('start delay', () => {
  test('a delayed start holds the first workflow task, and early signals wait for it', async () => {
    const { env, taskQueue } = suite
    const delayMs = suite.pick(24 * 3_600_000, 1000)
    const handle = await env.client.workflow.start(workflows.collector, { taskQueue, workflowId: suite.id('delayed'), args: [{ expect: 1 }], startDelay: delayMs })
    await handle.signal(workflows.addItemSignal, 'early')
    expect(await handle.result()).toEqual(['early'])
    const history = await handle.fetchHistory()
    const startedAt = Number(history.events![0]!.eventTime!.seconds) * 1000
    const firstTask = history.events!.find((e) => e.workflowTaskScheduledEventAttributes)!
    expect(Number(firstTask.eventTime!.seconds) * 1000 - startedAt).toBeGreaterThanOrEqual(delayMs - 1000)
  })
})

describe('memo and search attributes', () => {
  test('start values and upserts are visible in describe and usable in list queries', async () => {
    const { env, taskQueue } = suite
    const workflowId = suite.id('tagged')
    const handle = await env.client.workflow.start(workflows.tagged, {
      taskQueue,
      workflowId,
      args: ['paid', suite.pick(3_600_000, 1000)],
      memo: { customer: 'c-1' },
      typedSearchAttributes: [{ key: workflows.orderStatusKey, value: 'new' }],
    })
    let description = await handle.describe()
    for (let i = 0; i < 100 && description.typedSearchAttributes.get(workflows.orderStatusKey) !== 'paid'; i++) {
      await new Promise((r) => setTimeout(r, 25))
      description = await handle.describe()
    }
    expect(description.typedSearchAttributes.get(workflows.orderStatusKey)).toBe('paid')
    expect(description.typedSearchAttributes.get(workflows.amountKey)).toBe(42)
    expect(description.memo).toEqual({ customer: 'c-1', note: 'status is paid' })

    const ids: string[] = []
    for await (const info of env.client.workflow.list({ query: `CustomKeywordField = 'paid' AND CustomIntField >= 40 AND WorkflowId = '${workflowId}'` })) {
      ids.push(info.workflowId)
    }
    expect(ids).toEqual([workflowId])
    expect(await handle.result()).toBe('status is paid')
  })

  test('an unregistered search attribute is rejected at start', async () => {
    const { env, taskQueue } = suite
    await expect(
      env.client.workflow.start(workflows.quick, { taskQueue, workflowId: suite.id('bad-sa'), args: ['x'], searchAttributes: { NotRegistered: ['x'] } }),
    ).rejects.toThrow()
  })
})

describe('markers', () => {
  test('local activities and patches record markers that replay', async () => {
    const { env, taskQueue } = suite
    const local = await env.client.workflow.start(workflows.withLocalActivity, { taskQueue, workflowId: suite.id('local'), args: ['local'] })
    expect(await local.result()).toBe('Hello, local!')
    const patchedRun = await env.client.workflow.start(workflows.patchedWorkflow, { taskQueue, workflowId: suite.id('patched') })
    expect(await patchedRun.result()).toBe('new path')
    for (const handle of [local, patchedRun]) {
      const history = await handle.fetchHistory()
      expect(history.events!.some((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_MARKER_RECORDED)).toBe(true)
    }
  })
})

test('every workflow history recorded in this file replays cleanly', async () => {
  const { replayed, failures } = await suite.replayAll()
  expect(failures).toEqual([])
  expect(replayed).toBeGreaterThan(0)
})
