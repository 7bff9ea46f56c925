import type { Transformer } from 'grammy'
import type { Logger } from '../logger.ts'

/**
 * The bot's own Bot API calls (replies, edits, answers) honour flood control: a 429 is waited out for its
 * `retry_after` and the call made again, a few times at most and never for long (a person is waiting for the reply).
 * getUpdates has its own loop and is left alone.
 */
export function retryOnFlood(logger: Logger, options: { maxAttempts?: number; maxWaitSeconds?: number } = {}): Transformer {
  const maxAttempts = options.maxAttempts ?? 3
  const maxWait = options.maxWaitSeconds ?? 10
  return async (prev, method, payload, signal) => {
    for (let attempt = 1; ; attempt++) {
      const result = await prev(method, payload, signal)
      const retryAfter = !result.ok && result.error_code === 429 ? result.parameters?.retry_after : undefined
      if (method === 'getUpdates' || retryAfter === undefined || attempt >= maxAttempts || retryAfter > maxWait) return result
      logger.warn('bot-flood-control', { method, retryAfter, attempt })
      await new Promise((r) => setTimeout(r, retryAfter * 1000))
    }
  }
}
