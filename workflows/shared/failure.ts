import { ActivityFailure, ApplicationFailure, TimeoutFailure, TemporalFailure } from '@temporalio/workflow'

/** What a workflow needs to know about a failed activity: its type, a message for people, and whether retrying can help. */
export interface FailureInfo {
  type: string | null
  message: string
  nonRetryable: boolean
}

/** Unwraps an activity failure into the business error inside it (ApplicationFailure) or the timeout that ended it. */
export function describeFailure(error: unknown): FailureInfo {
  const cause = error instanceof ActivityFailure && error.cause ? error.cause : error
  if (cause instanceof ApplicationFailure) {
    return { type: cause.type ?? null, message: cause.message || (cause.type ?? 'unknown error'), nonRetryable: cause.nonRetryable === true }
  }
  if (cause instanceof TimeoutFailure) {
    return { type: 'Timeout', message: `the step timed out (${cause.timeoutType})`, nonRetryable: false }
  }
  if (cause instanceof TemporalFailure) return { type: null, message: cause.message, nonRetryable: false }
  if (cause instanceof Error) return { type: cause.name, message: cause.message, nonRetryable: false }
  return { type: null, message: String(cause), nonRetryable: false }
}
