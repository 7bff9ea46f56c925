import {
  CancelledFailure,
  TerminatedFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
} from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startSuite, type Suite } from './helpers.ts'
import * as workflows from './workflows/index.ts'

let suite: Suite
beforeAll(async () => {
  suite = await startSuite('lifecycle')
})
afterAll(async () => {
  await suite?.teardown()
})

async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('cancel and terminate', () => {
  test('cancel runs cleanup in a non-cancellable scope and ends as cancelled', async () => {
    const { env, taskQueue, log } = suite
    const key = suite.id('cancel')
    const handle = await env.client.workflow.start(workflows.cancellableWithCleanup, { taskQueue, workflowId: key, args: [key] })
    await waitUntil(async () => (await handle.describe()).raw.pendingWorkflowTask == null, 'first workflow task')
    await handle.cancel()
    const error = await handle.result().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WorkflowFailedError)
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure)
    expect(log.cleanups).toContain(`workflow:${key}`)
    expect((await handle.describe()).status.name).toBe('CANCELLED')
  })

  test('terminate ends a workflow at once', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.start(workflows.longRunning, { taskQueue, workflowId: suite.id('terminate') })
    await handle.terminate('no longer needed')
    const error = await handle.result().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WorkflowFailedError)
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(TerminatedFailure)
    expect((await handle.describe()).status.name).toBe('TERMINATED')
  })

  test('an unknown workflow id is not found', async () => {
    const { env } = suite
    await expect(env.client.workflow.getHandle('does-not-exist').describe()).rejects.toBeInstanceOf(WorkflowNotFoundError)
  })
})

describe('continue-as-new', () => {
  test('a chain of runs ends with the last run result and the client follows it', async () => {
    const { env, taskQueue } = suite
    const workflowId = suite.id('countdown')
    const handle = await env.client.workflow.start(workflows.countdown, { taskQueue, workflowId, args: [{ remaining: 4 }] })
    const result = await handle.result()
    expect(result.continued).toBe(4)
    expect(new Set(result.runIds).size).toBe(5)
    expect(result.runIds[0]).toBe(handle.firstExecutionRunId)
    const latest = await env.client.workflow.getHandle(workflowId).describe()
    expect(latest.runId).toBe(result.runIds[4])
    expect(latest.status.name).toBe('COMPLETED')
  })
})

describe('workflow id policies', () => {
  test('starting a running workflow id again fails by default', async () => {
    const { env, taskQueue } = suite
    const workflowId = suite.id('dup')
    await env.client.workflow.start(workflows.collector, { taskQueue, workflowId })
    await expect(env.client.workflow.start(workflows.collector, { taskQueue, workflowId })).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError)
    await env.client.workflow.getHandle(workflowId).terminate()
  })

  test('USE_EXISTING returns the running workflow', async () => {
    const { env, taskQueue } = suite
    const workflowId = suite.id('use-existing')
    const first = await env.client.workflow.start(workflows.collector, { taskQueue, workflowId })
    const second = await env.client.workflow.start(workflows.collector, {
      taskQueue,
      workflowId,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    })
    expect(second.firstExecutionRunId).toBe(first.firstExecutionRunId)
    await second.signal(workflows.finishSignal)
    expect(await first.result()).toEqual([])
  })

  test('TERMINATE_EXISTING replaces the running workflow', async () => {
    const { env, taskQueue } = suite
    const workflowId = suite.id('terminate-existing')
    const first = await env.client.workflow.start(workflows.collector, { taskQueue, workflowId })
    const second = await env.client.workflow.start(workflows.quick, {
      taskQueue,
      workflowId,
      args: ['replacement'],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
    })
    expect(second.firstExecutionRunId).not.toBe(first.firstExecutionRunId)
    expect(await second.result()).toBe('replacement')
    await expect(first.result()).rejects.toBeInstanceOf(WorkflowFailedError)
  })

  test('a closed workflow id may be reused by default', async () => {
    const { env, taskQueue } = suite
    const workflowId = suite.id('reuse')
    expect(await env.client.workflow.execute(workflows.quick, { taskQueue, workflowId, args: ['one'] })).toBe('one')
    expect(await env.client.workflow.execute(workflows.quick, { taskQueue, workflowId, args: ['two'] })).toBe('two')
  })

  test('REJECT_DUPLICATE refuses a closed id', async () => {
    const { env, taskQueue } = suite
    const workflowId = suite.id('reject')
    await env.client.workflow.execute(workflows.quick, { taskQueue, workflowId, args: ['one'] })
    await expect(
      env.client.workflow.start(workflows.quick, { taskQueue, workflowId, args: ['two'], workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE }),
    ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError)
  })

  test('ALLOW_DUPLICATE_FAILED_ONLY reuses only a failed id', async () => {
    const { env, taskQueue } = suite
    const completed = suite.id('failed-only-completed')
    await env.client.workflow.execute(workflows.quick, { taskQueue, workflowId: completed, args: ['ok'] })
    await expect(
      env.client.workflow.start(workflows.quick, { taskQueue, workflowId: completed, args: ['again'], workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY }),
    ).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError)

    const failed = suite.id('failed-only-failed')
    await expect(env.client.workflow.execute(workflows.failing, { taskQueue, workflowId: failed, args: ['boom'] })).rejects.toBeInstanceOf(WorkflowFailedError)
    const retried = await env.client.workflow.execute(workflows.quick, {
      taskQueue,
      workflowId: failed,
      args: ['second chance'],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    })
    expect(retried).toBe('second chance')
  })
})

describe('workflow retry', () => {
  test('a workflow retry policy starts new attempts until one succeeds', async () => {
    const { env, taskQueue } = suite
    const result = await env.client.workflow.execute(workflows.failsUntilAttempt, {
      taskQueue,
      workflowId: suite.id('wf-retry'),
      args: [3],
      retry: { initialInterval: suite.pick('10s', '100ms'), maximumAttempts: 5 },
    })
    expect(result).toBe(3)
  })
})

describe('workers', () => {
  test('a workflow started under one worker is finished by another after the first stops', async () => {
    const { env, taskQueue } = suite
    const workflowId = suite.id('handover')
    const handle = await env.client.workflow.start(workflows.collector, { taskQueue, workflowId, args: [{ expect: 2 }] })
    await handle.signal(workflows.addItemSignal, 'before')
    await waitUntil(async () => (await handle.query(workflows.itemsQuery)).length === 1, 'first signal to be processed')
    suite.worker.shutdown()
    await waitUntil(async () => suite.worker.getState() === 'STOPPED', 'first worker to stop')
    await handle.signal(workflows.addItemSignal, 'after')
    const second = await suite.newWorker()
    const result = await second.runUntil(handle.result())
    expect(result).toEqual(['before', 'after'])
  })
})

test('every workflow history recorded in this file replays cleanly', async () => {
  const { replayed, failures } = await suite.replayAll()
  expect(failures).toEqual([])
  expect(replayed).toBeGreaterThan(0)
})
