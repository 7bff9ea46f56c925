import type { AppLoadContext } from '@remix-run/node'
import type { Client } from '@temporalio/client'
import { getErrorMessage } from './misc.ts'
import { isTemporalDownError, isTemporalUnavailable } from './temporal.server.ts'

export type TemporalOutcome<T> = { ok: true; value: T } | { ok: false; reason: 'not_configured' | 'unreachable'; detail: string }

/**
 * Runs `fn` with the Temporal client. When Temporal is not configured or cannot be reached the page gets
 * `{ ok: false }` to show a clear message instead of an error page; any other error is thrown.
 */
export async function withTemporal<T>(context: AppLoadContext, fn: (client: Client) => Promise<T>): Promise<TemporalOutcome<T>> {
  try {
    const client = await context.temporal.getClient()
    return { ok: true, value: await fn(client) }
  } catch (error) {
    if (isTemporalUnavailable(error)) return { ok: false, reason: error.reason, detail: error.message }
    if (isTemporalDownError(error)) return { ok: false, reason: 'unreachable', detail: getErrorMessage(error) }
    throw error
  }
}
