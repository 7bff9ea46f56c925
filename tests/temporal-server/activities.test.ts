import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startSuite, type Suite } from './helpers.ts'
import * as workflows from './workflows/index.ts'

let suite: Suite
beforeAll(async () => {
  suite = await startSuite('activities')
})
afterAll(async () => {
  await suite?.teardown()
})

describe('activities', () => {
  test('an activity result reaches the workflow', async () => {
    const { env, taskQueue } = suite
    const result = await env.client.workflow.execute(workflows.greeting, { taskQueue, workflowId: suite.id('greet'), args: ['Temporal'] })
    expect(result).toBe('Hello, Temporal!')
  })

  test('a failing activity is retried with backoff until it succeeds', async () => {
    const { env, taskQueue, log } = suite
    const key = suite.id('retry')
    const initialIntervalMs = suite.pick(60_000, 200)
    const started = Date.now()
    const virtualStart = await env.currentTimeMs()
    const result = await env.client.workflow.execute(workflows.retryThenSucceed, {
      taskQueue,
      workflowId: key,
      args: [{ key, succeedOn: 3, initialIntervalMs }],
    })
    expect(result).toBe(3)
    expect(log.attempts.get(key)).toEqual([1, 2, 3])
    // 1 + 2 intervals of backoff; with time skipping they pass in virtual time, not in real time.
    expect(await env.currentTimeMs()).toBeGreaterThanOrEqual(virtualStart + 3 * initialIntervalMs)
    expect(Date.now() - started).toBeLessThan(60_000)
  })

  test('a non-retryable failure fails the workflow at once', async () => {
    const { env, taskQueue, log } = suite
    const key = suite.id('non-retryable')
    const error = await env.client.workflow
      .execute(workflows.nonRetryableFailure, { taskQueue, workflowId: key, args: [key] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WorkflowFailedError)
    const cause = (error as WorkflowFailedError).cause
    expect(cause).toBeInstanceOf(ActivityFailure)
    expect((cause as ActivityFailure).cause).toBeInstanceOf(ApplicationFailure)
    expect(((cause as ActivityFailure).cause as ApplicationFailure).type).toBe('InvalidOrder')
    expect(log.attempts.get(key)).toEqual([1])
  })

  test('an error type listed as non-retryable is not retried', async () => {
    const { env, taskQueue, log } = suite
    const key = suite.id('non-retryable-type')
    const result = await env.client.workflow.execute(workflows.nonRetryableByType, { taskQueue, workflowId: key, args: [key] })
    expect(result).toBe('NON_RETRYABLE_FAILURE:PanelRejected')
    expect(log.attempts.get(key)).toEqual([1])
  })

  test.each([
    ['startToClose', 'START_TO_CLOSE', 'MAXIMUM_ATTEMPTS_REACHED'],
    ['scheduleToStart', 'SCHEDULE_TO_START', 'TIMEOUT'],
    ['scheduleToClose', 'SCHEDULE_TO_CLOSE', 'TIMEOUT'],
    ['heartbeat', 'HEARTBEAT', 'MAXIMUM_ATTEMPTS_REACHED'],
  ] as const)('a %s timeout reaches the workflow as a TimeoutFailure', async (kind, timeoutType, retryState) => {
    const { env, taskQueue } = suite
    const result = await env.client.workflow.execute(workflows.activityTimeout, { taskQueue, workflowId: suite.id(kind), args: [kind] })
    expect(result).toEqual({ timeoutType, retryState })
  })

  test('heartbeat details survive a retry', async () => {
    const { env, taskQueue } = suite
    const key = suite.id('heartbeat-details')
    const result = await env.client.workflow.execute(workflows.heartbeatDetailsAcrossRetry, { taskQueue, workflowId: key, args: [key] })
    expect(result).toEqual({ progress: 7 })
  })

  test('a cancelled activity learns of it through its heartbeat and the workflow waits for it', async () => {
    const { env, taskQueue, log } = suite
    const key = suite.id('cancel-activity')
    const result = await env.client.workflow.execute(workflows.cancelActivity, { taskQueue, workflowId: key, args: [key] })
    expect(result).toBe('cancelled')
    expect(log.cleanups).toContain(`activity:${key}`)
  })

  test('a saga compensates completed steps in reverse order', async () => {
    const { env, taskQueue, log } = suite
    log.compensations.length = 0
    const error = await env.client.workflow
      .execute(workflows.saga, { taskQueue, workflowId: suite.id('saga'), args: [{ failAt: 'provision' }] })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WorkflowFailedError)
    expect(((error as WorkflowFailedError).cause as ApplicationFailure).type).toBe('SagaFailed')
    expect(log.compensations).toEqual(['charge', 'reserve'])
  })

  test('describe shows a retrying activity with its attempt and last failure', async () => {
    const { env, taskQueue } = suite
    const key = suite.id('describe-retry')
    const handle = await env.client.workflow.start(workflows.retryThenSucceed, { taskQueue, workflowId: key, args: [{ key, succeedOn: 100 }] })
    let pending: Awaited<ReturnType<typeof handle.describe>>['raw']['pendingActivities'] = []
    for (let i = 0; i < 100; i++) {
      const description = await handle.describe()
      pending = description.raw.pendingActivities
      if (pending?.[0]?.attempt && pending[0].attempt >= 2) break
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(pending?.[0]?.activityType?.name).toBe('failUntilAttempt')
    expect(pending?.[0]?.attempt).toBeGreaterThanOrEqual(2)
    expect(pending?.[0]?.lastFailure?.message).toMatch(/attempt \d of .* failed/)
    await handle.terminate('done')
  })

  test('an activity can be completed asynchronously by id', async () => {
    const { env, taskQueue } = suite
    const key = suite.id('async')
    const handle = await env.client.workflow.start(workflows.asyncCompletion, { taskQueue, workflowId: key })
    for (let i = 0; i < 100; i++) {
      const { raw } = await handle.describe()
      if (raw.pendingActivities?.[0]?.lastStartedTime) break
      await new Promise((r) => setTimeout(r, 50))
    }
    await env.client.activity.complete({ workflowId: key, activityId: '1' }, 'completed from outside')
    expect(await handle.result()).toBe('completed from outside')
  })
})

test('every workflow history recorded in this file replays cleanly', async () => {
  const { replayed, failures } = await suite.replayAll()
  expect(failures).toEqual([])
  expect(replayed).toBeGreaterThan(0)
})
