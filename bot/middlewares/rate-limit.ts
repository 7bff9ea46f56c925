import type { NextFunction } from 'grammy'
import type { Redis } from 'ioredis'
import type { BotContext } from '../context.ts'

/**
 * Counts a person's updates in fixed windows in Redis (shared by every bot process). Past the limit the update is
 * dropped; the first dropped one of a window gets a short "wait" answer, the rest get nothing, so a flood costs
 * one reply at most. Button presses are always answered (silently) so the button stops spinning.
 */
export async function hitRateLimit(redis: Redis, key: string, limit: number, windowMs: number, now = Date.now()): Promise<{ allowed: boolean; count: number }> {
  const window = Math.floor(now / windowMs)
  const k = `${key}:${window}`
  const results = await redis.multi().incr(k).pexpire(k, windowMs * 2).exec()
  const count = Number(results?.[0]?.[1] ?? 0)
  return { allowed: count <= limit, count }
}

export function rateLimit() {
  return async (ctx: BotContext, next: NextFunction): Promise<void> => {
    const from = ctx.from?.id
    if (from === undefined) return next()
    const { limit, windowMs } = ctx.deps.settings.rateLimit
    const { allowed, count } = await hitRateLimit(ctx.deps.redis, `${ctx.deps.settings.redisPrefix}rl:${from}`, limit, windowMs)
    if (allowed) return next()
    if (count === limit + 1) ctx.deps.logger.warn('rate-limited', { from, limit, windowMs })
    if (ctx.callbackQuery) {
      await ctx.answerCallbackQuery({ text: count === limit + 1 ? ctx.t.rateLimitedShort : undefined }).catch(() => {})
      return
    }
    if (count === limit + 1 && ctx.chat?.type === 'private') await ctx.reply(ctx.t.rateLimited.value, { parse_mode: 'HTML' })
  }
}
