import { WorkflowUpdateFailedError, WorkflowUpdateStage } from '@temporalio/client'
import { Worker } from '@temporalio/worker'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { conformanceBundle, startSuite, type Suite } from './helpers.ts'
import * as workflows from './workflows/index.ts'

let suite: Suite
beforeAll(async () => {
  suite = await startSuite('updates')
})
afterAll(async () => {
  await suite?.teardown()
})

describe('updates', () => {
  test('an update returns its handler result and changes workflow state', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.start(workflows.approvals, { taskQueue, workflowId: suite.id('update') })
    expect(await handle.executeUpdate(workflows.approveUpdate, { args: [10] })).toBe('approved 10')
    expect(await handle.executeUpdate(workflows.approveUpdate, { args: [20] })).toBe('approved 20')
    expect(await handle.query(workflows.approvedQuery)).toEqual([10, 20])
    await handle.signal(workflows.finishSignal)
    expect(await handle.result()).toEqual([10, 20])
  })

  test('a validator rejection and a handler failure reach the caller as WorkflowUpdateFailedError', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.start(workflows.approvals, { taskQueue, workflowId: suite.id('update-fail') })
    const rejected = await handle.executeUpdate(workflows.approveUpdate, { args: [-5] }).catch((e: unknown) => e)
    expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError)
    expect(String((rejected as WorkflowUpdateFailedError).cause?.message)).toMatch(/must be positive/)
    const failed = await handle.executeUpdate(workflows.approveUpdate, { args: [13] }).catch((e: unknown) => e)
    expect(failed).toBeInstanceOf(WorkflowUpdateFailedError)
    expect(String((failed as WorkflowUpdateFailedError).cause?.message)).toMatch(/refused by the handler/)
    await handle.signal(workflows.finishSignal)
    expect(await handle.result()).toEqual([])
  })

  test('an accepted update completes later, and its history replays', async () => {
    const { env, taskQueue } = suite
    const handle = await env.client.workflow.start(workflows.approvals, {
      taskQueue,
      workflowId: suite.id('update-slow'),
      args: [{ slowMs: suite.pick(3_600_000, 200) }],
    })
    const update = await handle.startUpdate(workflows.approveUpdate, { args: [700], waitForStage: WorkflowUpdateStage.ACCEPTED })
    // The handler sleeps an hour of workflow time; sleeping in the test environment lets that time pass.
    await env.sleep(suite.pick('2 hours', '10ms'))
    expect(await update.result()).toBe('approved 700')
    await handle.signal(workflows.finishSignal)
    expect(await handle.result()).toEqual([700])
    const history = await handle.fetchHistory()
    await Worker.runReplayHistory({ workflowBundle: await conformanceBundle() }, history, handle.workflowId)
  })
})

test('every workflow history recorded in this file replays cleanly', async () => {
  const { replayed, failures } = await suite.replayAll()
  expect(failures).toEqual([])
  expect(replayed).toBeGreaterThan(0)
})
