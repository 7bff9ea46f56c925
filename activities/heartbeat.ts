import { Context } from '@temporalio/activity'

/**
 * Heartbeats while a slow call (a panel request) runs, so a worker that dies mid-call is noticed after the
 * heartbeat timeout instead of the whole start-to-close timeout. Outside an activity it just runs the call.
 */
export async function withHeartbeat<T>(fn: () => Promise<T>, everyMs = 2_000): Promise<T> {
  let context: Context
  try {
    context = Context.current()
  } catch {
    return fn()
  }
  context.heartbeat()
  const timer = setInterval(() => context.heartbeat(), everyMs)
  try {
    return await fn()
  } finally {
    clearInterval(timer)
  }
}
