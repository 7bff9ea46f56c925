import { session, type Context, type StorageAdapter } from 'grammy'
import type { Redis } from 'ioredis'
import { z } from 'zod'
import type { BotContext, SessionData } from '../context.ts'

const StepSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('receipt'), methodId: z.number().int(), amount: z.string().regex(/^\d+$/), orderId: z.number().int().nullable() }),
  z.object({ kind: z.literal('topup_amount'), methodId: z.number().int() }),
  z.object({ kind: z.literal('reject_reason'), paymentId: z.number().int(), chatId: z.number().int(), messageId: z.number().int().nullable() }),
  z.object({ kind: z.literal('broadcast_text'), audience: z.enum(['all', 'customers', 'agents']) }),
  z.object({ kind: z.literal('broadcast_confirm'), audience: z.enum(['all', 'customers', 'agents']), text: z.string() }),
])
const SessionSchema = z.object({ step: StepSchema.optional() })

/** Sessions in Redis, one JSON value per key with a TTL; anything unreadable counts as no session. */
export class RedisSessionStorage implements StorageAdapter<SessionData> {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds: number,
  ) {}

  async read(key: string): Promise<SessionData | undefined> {
    const text = await this.redis.get(this.prefix + key)
    if (text === null) return undefined
    try {
      const parsed = SessionSchema.safeParse(JSON.parse(text))
      return parsed.success ? parsed.data : undefined
    } catch {
      return undefined
    }
  }

  async write(key: string, value: SessionData): Promise<void> {
    await this.redis.set(this.prefix + key, JSON.stringify(value), 'EX', this.ttlSeconds)
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(this.prefix + key)
  }
}

/**
 * One session per person per chat (and per bot): in an admin group every admin has their own (a reject reason
 * typed by one admin must not be taken as another's).
 */
export function sessionKey(ctx: Context): string | undefined {
  const chat = ctx.chat?.id
  const from = ctx.from?.id
  if (chat === undefined || from === undefined) return undefined
  return `${ctx.me.id}:${chat}:${from}`
}

export function redisSession(redis: Redis, prefix: string, ttlSeconds: number) {
  return session<SessionData, BotContext>({
    initial: () => ({}),
    getSessionKey: sessionKey,
    storage: new RedisSessionStorage(redis, `${prefix}session:`, ttlSeconds),
  })
}
