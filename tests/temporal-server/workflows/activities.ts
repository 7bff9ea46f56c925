import { ActivityCancellationType, ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, proxyActivities, TimeoutFailure } from '@temporalio/workflow'
import type { Activities } from '../activities.ts'

const { greet, failUntilAttempt, failNonRetryable, heartbeatThenFail } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 5 },
})

export async function greeting(name: string): Promise<string> {
  return await greet(name)
}

export async function retryThenSucceed(input: { key: string; succeedOn: number; initialIntervalMs?: number }): Promise<number> {
  if (input.initialIntervalMs === undefined) return await failUntilAttempt(input)
  const { failUntilAttempt: withBackoff } = proxyActivities<Activities>({
    startToCloseTimeout: '10s',
    retry: { initialInterval: input.initialIntervalMs, backoffCoefficient: 2, maximumAttempts: 5 },
  })
  return await withBackoff(input)
}

export async function nonRetryableFailure(key: string): Promise<void> {
  await failNonRetryable(key)
}

export async function nonRetryableByType(key: string): Promise<string> {
  const { failWithType: fail } = proxyActivities<Activities>({
    startToCloseTimeout: '10s',
    retry: { initialInterval: '1s', maximumAttempts: 10, nonRetryableErrorTypes: ['PanelRejected'] },
  })
  try {
    await fail({ key, type: 'PanelRejected' })
    return 'unexpected success'
  } catch (error) {
    if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) return `${error.retryState}:${error.cause.type}`
    throw error
  }
}

export type TimeoutKind = 'startToClose' | 'scheduleToStart' | 'scheduleToClose' | 'heartbeat'

/** Runs an activity set up to hit one kind of timeout and reports what the workflow saw. */
export async function activityTimeout(kind: TimeoutKind): Promise<{ timeoutType: string; retryState: string }> {
  const key = `timeout-${kind}`
  let call: Promise<unknown>
  switch (kind) {
    case 'startToClose':
      call = proxyActivities<Activities>({ startToCloseTimeout: '300ms', retry: { maximumAttempts: 2, initialInterval: '1s' } }).sleepFor({ key, ms: 2000 })
      break
    case 'scheduleToStart':
      call = proxyActivities<Activities>({ taskQueue: 'nobody-polls-this', scheduleToStartTimeout: '1s', startToCloseTimeout: '1m' }).greet(key)
      break
    case 'scheduleToClose':
      call = proxyActivities<Activities>({ scheduleToCloseTimeout: '1s', startToCloseTimeout: '10s' }).sleepFor({ key, ms: 3000 })
      break
    case 'heartbeat':
      call = proxyActivities<Activities>({ startToCloseTimeout: '1m', heartbeatTimeout: '300ms', retry: { maximumAttempts: 1 } }).sleepFor({ key, ms: 2000 })
      break
  }
  try {
    await call
    throw ApplicationFailure.nonRetryable('activity should have timed out')
  } catch (error) {
    if (error instanceof ActivityFailure && error.cause instanceof TimeoutFailure) {
      return { timeoutType: String(error.cause.timeoutType), retryState: String(error.retryState) }
    }
    throw error
  }
}

export async function heartbeatDetailsAcrossRetry(key: string): Promise<unknown> {
  return await heartbeatThenFail(key)
}

export async function cancelActivity(key: string): Promise<string> {
  const { waitForCancel } = proxyActivities<Activities>({
    startToCloseTimeout: '1m',
    heartbeatTimeout: '1s',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  })
  const scope = new CancellationScope()
  const promise = scope.run(() => waitForCancel(key))
  await proxyActivities<Activities>({ startToCloseTimeout: '10s' }).greet('before-cancel')
  scope.cancel()
  try {
    await promise
    return 'not cancelled'
  } catch (error) {
    return isCancellation(error) ? 'cancelled' : `other: ${String(error)}`
  }
}

/** A saga: every completed step pushes its compensation, run in reverse when a later step fails. */
export async function saga(input: { failAt: string }): Promise<string[]> {
  const { step, compensate } = proxyActivities<Activities>({ startToCloseTimeout: '10s', retry: { maximumAttempts: 1 } })
  const compensations: string[] = []
  try {
    for (const name of ['reserve', 'charge', 'provision']) {
      await step({ name, fail: name === input.failAt })
      compensations.unshift(name)
    }
    return []
  } catch (error) {
    for (const name of compensations) await compensate(name)
    throw ApplicationFailure.create({ type: 'SagaFailed', message: `saga failed at ${input.failAt}`, nonRetryable: true, cause: error as Error })
  }
}

export async function asyncCompletion(): Promise<string> {
  const { completeLater } = proxyActivities<Activities>({ startToCloseTimeout: '1m' })
  return await completeLater()
}
