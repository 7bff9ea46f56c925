import type { Bot } from 'grammy'
import type { Update } from 'grammy/types'
import type { Redis } from 'ioredis'
import type { BotContext } from './context.ts'
import { getErrorMessage, type Logger } from './logger.ts'

/**
 * The one way updates reach the handlers, whether they come by webhook or by long polling:
 * - an update id seen before (a webhook re-delivery, or two processes polling) is handled once, by a Redis `SET NX`;
 * - updates of the same person in the same chat run one after another, in order (so a session is never read by
 *   two handlers at once), while different people — two admins pressing buttons at once — run concurrently.
 */
export interface UpdateDispatcher {
  /** Resolves when the update was handled (or skipped as a duplicate). Never rejects. */
  dispatch(update: Update): Promise<void>
  /** Resolves when every update dispatched so far is handled. */
  idle(): Promise<void>
}

export function sequenceKey(update: Update): string {
  const u = update as unknown as Record<string, unknown>
  for (const value of Object.values(u)) {
    if (value && typeof value === 'object') {
      const v = value as { chat?: { id?: number }; from?: { id?: number }; message?: { chat?: { id?: number } } }
      const chat = v.chat?.id ?? v.message?.chat?.id
      const from = v.from?.id
      if (chat !== undefined || from !== undefined) return `${chat ?? ''}:${from ?? ''}`
    }
  }
  return `update:${update.update_id}`
}

/** `bot` must be initialised (`await bot.init()`): its id scopes the dedupe keys. */
export function createUpdateDispatcher(bot: Bot<BotContext>, options: { redis: Redis; redisPrefix: string; logger: Logger; dedupeTtlSeconds?: number }): UpdateDispatcher {
  const chains = new Map<string, Promise<void>>()
  const inFlight = new Set<Promise<void>>()
  const ttl = options.dedupeTtlSeconds ?? 24 * 3600

  async function handle(update: Update): Promise<void> {
    // Update ids are unique per bot only: two bots sharing a Redis must not drop each other's updates.
    const first = await options.redis.set(`${options.redisPrefix}update:${bot.botInfo.id}:${update.update_id}`, '1', 'EX', ttl, 'NX')
    if (first === null) {
      options.logger.debug('update-duplicate', { updateId: update.update_id })
      return
    }
    try {
      await bot.handleUpdate(update)
    } catch (error) {
      // Handlers have their own error boundary; this only catches failures of the boundary itself.
      options.logger.error('update-failed', { updateId: update.update_id, error: getErrorMessage(error) })
    }
  }

  return {
    dispatch(update) {
      const key = sequenceKey(update)
      const previous = chains.get(key) ?? Promise.resolve()
      const run = previous.then(() => handle(update)).catch((error: unknown) => {
        options.logger.error('update-dispatch-failed', { updateId: update.update_id, error: getErrorMessage(error) })
      })
      chains.set(key, run)
      inFlight.add(run)
      void run.finally(() => {
        inFlight.delete(run)
        if (chains.get(key) === run) chains.delete(key)
      })
      return run
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight])
    },
  }
}

export const ALLOWED_UPDATES = ['message', 'callback_query'] as const

export interface Poller {
  /** Stops asking for updates and waits for the handlers that are running. */
  stop(): Promise<void>
  /** Resolves when the loop has ended. */
  done: Promise<void>
}

/**
 * Long polling for development (`npm run bot`): the same dispatcher as the webhook. The offset only moves past an
 * update once it has been handed to the dispatcher; the dispatcher's dedupe covers a restart in between.
 */
export function startPolling(bot: Bot<BotContext>, dispatcher: UpdateDispatcher, options: { logger: Logger; timeoutSeconds?: number; retryMs?: number }): Poller {
  const controller = new AbortController()
  let offset = 0
  const loop = async () => {
    await bot.api.deleteWebhook({ drop_pending_updates: false })
    while (!controller.signal.aborted) {
      let updates: Update[]
      try {
        updates = await bot.api.getUpdates({ offset, timeout: options.timeoutSeconds ?? 25, allowed_updates: [...ALLOWED_UPDATES] }, controller.signal as Parameters<typeof bot.api.getUpdates>[1])
      } catch (error) {
        if (controller.signal.aborted) break
        options.logger.warn('polling-failed', { error: getErrorMessage(error) })
        await new Promise((r) => setTimeout(r, options.retryMs ?? 3000))
        continue
      }
      for (const update of updates) {
        offset = Math.max(offset, update.update_id + 1)
        void dispatcher.dispatch(update)
      }
    }
  }
  const done = loop().catch((error: unknown) => {
    options.logger.error('polling-stopped', { error: getErrorMessage(error) })
  })
  return {
    done,
    async stop() {
      controller.abort()
      await done
      await dispatcher.idle()
    },
  }
}
