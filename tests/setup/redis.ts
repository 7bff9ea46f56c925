import type { Redis } from 'ioredis'
import type { Env } from '#config/env.ts'
import { redisNames } from '#config/redis-names.ts'

/** Deletes every key of one installation (its REDIS_PREFIX) and nothing else; test worlds call it when they close. */
export async function clearRedisNamespace(redis: Redis, env: Pick<Env, 'REDIS_PREFIX'>): Promise<void> {
  const pattern = `${redisNames(env).prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
    cursor = next
    if (keys.length > 0) await redis.del(...keys)
  } while (cursor !== '0')
}
