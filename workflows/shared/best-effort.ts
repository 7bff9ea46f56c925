import { log } from '@temporalio/workflow'
import { describeFailure } from './failure.ts'

/** Runs a step whose failure must not change the outcome (a notification): the failure is logged and dropped. */
export async function bestEffort(what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn()
  } catch (error) {
    log.warn(`${what} failed`, { error: describeFailure(error).message })
  }
}
