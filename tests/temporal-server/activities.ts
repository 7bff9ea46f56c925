import { activityInfo, ApplicationFailure, CancelledFailure, Context, heartbeat, sleep } from '@temporalio/activity'

/** What the conformance activities record, so tests can assert on side effects. */
export interface ActivityLog {
  calls: string[]
  compensations: string[]
  cleanups: string[]
  attempts: Map<string, number[]>
}

export function createActivityLog(): ActivityLog {
  return { calls: [], compensations: [], cleanups: [], attempts: new Map() }
}

/** Activities for the conformance workflows; each records what it did in `log`. */
export function createActivities(log: ActivityLog) {
  const record = (key: string) => {
    const attempts = log.attempts.get(key) ?? []
    attempts.push(activityInfo().attempt)
    log.attempts.set(key, attempts)
  }
  return {
    async greet(name: string): Promise<string> {
      log.calls.push(`greet:${name}`)
      return `Hello, ${name}!`
    },
    async failUntilAttempt(input: { key: string; succeedOn: number }): Promise<number> {
      record(input.key)
      const { attempt } = activityInfo()
      if (attempt < input.succeedOn) throw new Error(`attempt ${attempt} of ${input.key} failed`)
      return attempt
    },
    async failNonRetryable(key: string): Promise<never> {
      record(key)
      throw ApplicationFailure.create({ type: 'InvalidOrder', message: `order ${key} is invalid`, nonRetryable: true })
    },
    async failWithType(input: { key: string; type: string }): Promise<never> {
      record(input.key)
      throw ApplicationFailure.create({ type: input.type, message: `${input.key} failed with ${input.type}` })
    },
    async sleepFor(input: { key: string; ms: number; heartbeatEveryMs?: number }): Promise<string> {
      record(input.key)
      const until = Date.now() + input.ms
      while (Date.now() < until) {
        await sleep(Math.min(input.heartbeatEveryMs ?? input.ms, until - Date.now()))
        if (input.heartbeatEveryMs) heartbeat()
      }
      return 'slept'
    },
    async heartbeatThenFail(key: string): Promise<unknown> {
      record(key)
      const info = activityInfo()
      if (info.attempt === 1) {
        heartbeat({ progress: 3 })
        await sleep(50)
        heartbeat({ progress: 7 })
        await sleep(50)
        throw new Error('crashed after recording progress')
      }
      return info.heartbeatDetails
    },
    async waitForCancel(key: string): Promise<string> {
      record(key)
      try {
        for (;;) {
          heartbeat()
          await sleep(100)
        }
      } catch (error) {
        if (error instanceof CancelledFailure) {
          log.cleanups.push(`activity:${key}`)
          throw error
        }
        throw error
      }
    },
    async cleanup(what: string): Promise<void> {
      log.cleanups.push(what)
    },
    async step(input: { name: string; fail?: boolean }): Promise<string> {
      log.calls.push(`step:${input.name}`)
      if (input.fail) throw ApplicationFailure.create({ type: 'StepFailed', message: `step ${input.name} failed`, nonRetryable: true })
      return input.name
    },
    async compensate(name: string): Promise<void> {
      log.compensations.push(name)
    },
    async completeLater(): Promise<string> {
      Context.current()
      throw new (await import('@temporalio/activity')).CompleteAsyncError()
    },
  }
}

export type Activities = ReturnType<typeof createActivities>
