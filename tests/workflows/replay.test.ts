import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { historyFromJSON } from '@temporalio/common/lib/proto-utils'
import { Worker } from '@temporalio/worker'
import { beforeAll, describe, expect, test } from 'vitest'
import { HISTORIES_DIR, workflowBundle } from './harness.ts'

/**
 * Histories recorded from earlier runs of the workflow tests (`RECORD_WORKFLOW_HISTORIES=1 npm run test:workflows`)
 * must replay with today's workflow code: a change that would break workflows already running in production fails
 * here. Each test file also replays the histories of its own runs.
 */
let files: string[] = []
beforeAll(async () => {
  files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort()
})

describe('recorded histories', () => {
  test('there are recorded histories of every workflow type', async () => {
    const types = new Set<string>()
    for (const file of files) {
      const history = historyFromJSON(JSON.parse(await readFile(path.join(HISTORIES_DIR, file), 'utf8')))
      types.add(history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?')
    }
    expect([...types]).toEqual(expect.arrayContaining(['agentCreditWatch', 'orderToProvision', 'paymentApproval', 'periodicPass', 'reconcilePass', 'refundAccount']))
  })

  test('all of them replay with the current workflow code without nondeterminism', async () => {
    const histories = async function* () {
      for (const file of files) {
        yield { workflowId: file, history: historyFromJSON(JSON.parse(await readFile(path.join(HISTORIES_DIR, file), 'utf8'))) }
      }
    }
    const errors: string[] = []
    let replayed = 0
    for await (const result of Worker.runReplayHistories({ workflowBundle: await workflowBundle(), replayName: 'recorded' }, histories())) {
      replayed++
      if (result.error) errors.push(`${result.workflowId}: ${result.error.message}`)
    }
    expect(errors).toEqual([])
    expect(replayed).toBe(files.length)
  })
})
