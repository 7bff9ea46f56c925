import { ApplicationFailure, CancellationScope, continueAsNew, isCancellation, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow'
import type { Activities } from '../activities.ts'

const { cleanup, greet } = proxyActivities<Activities>({ startToCloseTimeout: '10s' })

/** Waits a long time; on cancellation runs cleanup in a non-cancellable scope and re-throws. */
export async function cancellableWithCleanup(key: string): Promise<string> {
  try {
    await sleep('30 days')
    return 'finished'
  } catch (error) {
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() => cleanup(`workflow:${key}`))
    }
    throw error
  }
}

export async function longRunning(): Promise<void> {
  await sleep('365 days')
}

/** Continues as new `remaining` times, carrying the run ids along. */
export async function countdown(input: { remaining: number; runIds?: string[] }): Promise<{ runIds: string[]; continued: number }> {
  const runIds = [...(input.runIds ?? []), workflowInfo().runId]
  if (input.remaining > 0) {
    await greet(`step-${input.remaining}`)
    await continueAsNew<typeof countdown>({ remaining: input.remaining - 1, runIds })
  }
  return { runIds, continued: runIds.length - 1 }
}

export async function failing(message: string): Promise<void> {
  throw ApplicationFailure.create({ type: 'BusinessRule', message, nonRetryable: true })
}

export async function quick(value: string): Promise<string> {
  return value
}

/** Fails on its first attempts so a workflow retry policy takes it to success. */
export async function failsUntilAttempt(succeedOn: number): Promise<number> {
  const { attempt } = workflowInfo()
  if (attempt < succeedOn) throw ApplicationFailure.create({ type: 'NotYet', message: `attempt ${attempt}` })
  return attempt
}
