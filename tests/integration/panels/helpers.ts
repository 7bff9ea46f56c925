import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { expect } from 'vitest'
import { RedisPanelStore } from '#activities/panels/store.ts'
import { PanelError, type PanelErrorCode } from '#activities/panels/errors.ts'

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** The APP_SECRET the adapters of these tests seal their cached logins under. */
export const TEST_APP_SECRET = 'panel-tests-app-secret-0123456789abcdef'

/** A Redis-backed store under a key prefix unique to this test file run; `cleanup` removes its keys. */
export function createTestStore(label: string): { redis: Redis; prefix: string; store: RedisPanelStore; newStore(): RedisPanelStore; cleanup(): Promise<void> } {
  const redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 })
  const prefix = `fp:test:${label}:${process.pid}:${randomBytes(4).toString('hex')}:`
  return {
    redis,
    prefix,
    store: new RedisPanelStore(redis, prefix),
    /** A second store on the same Redis and prefix, as another worker process would have. */
    newStore: () => new RedisPanelStore(redis, prefix),
    async cleanup() {
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
        cursor = next
        if (keys.length > 0) await redis.del(...keys)
      } while (cursor !== '0')
      redis.disconnect()
    },
  }
}

/** Awaits a rejection and checks it is a PanelError with the code, kind and (optionally) message. */
export async function expectPanelError(promise: Promise<unknown>, code: PanelErrorCode, message?: RegExp): Promise<PanelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, `expected ${code}`).toBeInstanceOf(PanelError)
  const pe = error as PanelError
  expect(pe.code).toBe(code)
  if (message) expect(pe.message).toMatch(message)
  return pe
}

export const DAY_MS = 86_400_000
export const GB = 1024 ** 3
