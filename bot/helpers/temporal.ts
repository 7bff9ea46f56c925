import type { Client } from '@temporalio/client'
import type { BotContext } from '../context.ts'
import { getErrorMessage } from '../logger.ts'
import { answer, reply } from './screen.ts'

/** gRPC "unavailable" / "deadline exceeded" and failed connections: Temporal is away, the request itself was fine. */
export function isTemporalDown(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (code === 14 || code === 4) return true
  const name = (error as { name?: unknown } | null)?.name
  if (name === 'TemporalUnavailableError') return true
  return /UNAVAILABLE|DEADLINE_EXCEEDED|No connection established|Cannot reach the Temporal server|is unreachable|TEMPORAL_ADDRESS is not set/i.test(getErrorMessage(error))
}

/**
 * Runs `fn` with the Temporal client. When Temporal cannot be reached the person is told to try again in a
 * minute (nothing was started); other errors go on to the error boundary.
 */
export async function withTemporal(ctx: BotContext, fn: (client: Client) => Promise<void>): Promise<void> {
  let client: Client
  try {
    client = await ctx.deps.temporal.getClient()
  } catch (error) {
    ctx.deps.logger.warn('temporal-unavailable', { error: getErrorMessage(error) })
    await answer(ctx)
    await reply(ctx, ctx.t.serviceUnavailable)
    return
  }
  try {
    await fn(client)
  } catch (error) {
    if (!isTemporalDown(error)) throw error
    ctx.deps.logger.warn('temporal-unavailable', { error: getErrorMessage(error) })
    await answer(ctx)
    await reply(ctx, ctx.t.serviceUnavailable)
  }
}
