import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`

/**
 * Runs `fn` while holding a Redis lock, waiting up to `waitMs` for it. The lock expires after `ttlMs` in case the
 * holder dies; only the holder's token releases it. Returns undefined when the lock could not be had in time.
 */
export async function withRedisLock<T>(redis: Redis, key: string, fn: () => Promise<T>, options: { ttlMs?: number; waitMs?: number } = {}): Promise<{ value: T } | undefined> {
  const token = randomUUID()
  const ttl = options.ttlMs ?? 20_000
  const deadline = Date.now() + (options.waitMs ?? 20_000)
  for (;;) {
    const ok = await redis.set(key, token, 'PX', ttl, 'NX')
    if (ok === 'OK') break
    if (Date.now() > deadline) return undefined
    await new Promise((r) => setTimeout(r, 50))
  }
  try {
    return { value: await fn() }
  } finally {
    await redis.eval(RELEASE, 1, key, token).catch(() => {})
  }
}
