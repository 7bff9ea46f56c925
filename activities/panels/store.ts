import { createHmac, randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { seal, unseal } from '#db/crypto.ts'
import { PanelError } from './errors.ts'

/**
 * Shared state of the panel adapters: login tokens / session cookies (so every worker process
 * reuses one login instead of each logging in; sealed, see `SealedSessionCache`) and the per-panel
 * write lock 3X-UI needs.
 * Redis in production; an in-memory store exists for single-process tools and unit tests.
 */
export interface PanelStateStore {
  get(key: string): Promise<string | null>
  set(key: string, value: string, ttlMs: number): Promise<void>
  /** Deletes the key only while it still holds `value` (so a fresher token from another process survives). */
  deleteIfEquals(key: string, value: string): Promise<void>
  /**
   * Waits for an exclusive lock on `key` (at most `waitMs`), runs `fn`, releases. The lock expires
   * after `ttlMs` on its own should the holder die.
   */
  withLock<T>(key: string, options: { ttlMs: number; waitMs: number; label: string }, fn: () => Promise<T>): Promise<T>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Callers in one process queue on a local promise chain first, so only one of them at a time
 * polls Redis for the cross-process lock.
 */
class LocalQueue {
  private tails = new Map<string, Promise<void>>()

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((resolve) => (release = resolve))
    const tail = previous.then(() => mine)
    this.tails.set(key, tail)
    await previous
    try {
      return await fn()
    } finally {
      release()
      if (this.tails.get(key) === tail) this.tails.delete(key)
    }
  }
}

const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`

export class RedisPanelStore implements PanelStateStore {
  private readonly local = new LocalQueue()

  /** `prefix` is the installation's panel scope: `redisNames(env).scope('panel')`. */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async get(key: string): Promise<string | null> {
    return this.redis.get(this.prefix + key)
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.prefix + key, value, 'PX', Math.max(1, Math.floor(ttlMs)))
  }

  async deleteIfEquals(key: string, value: string): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, this.prefix + key, value)
  }

  async withLock<T>(key: string, options: { ttlMs: number; waitMs: number; label: string }, fn: () => Promise<T>): Promise<T> {
    return this.local.run(key, async () => {
      const fullKey = this.prefix + key
      const token = randomBytes(12).toString('hex')
      const deadline = Date.now() + options.waitMs
      let pause = 2
      for (;;) {
        const ok = await this.redis.set(fullKey, token, 'PX', options.ttlMs, 'NX')
        if (ok === 'OK') break
        if (Date.now() >= deadline) {
          throw new PanelError('PANEL_BUSY', `another worker held the write lock of ${options.label} for more than ${options.waitMs} ms`)
        }
        await sleep(pause)
        pause = Math.min(pause * 2, 25)
      }
      try {
        return await fn()
      } finally {
        await this.redis.eval(RELEASE_SCRIPT, 1, fullKey, token)
      }
    })
  }
}

/** Process-local store: correct only when a single process talks to the panel. */
export class MemoryPanelStore implements PanelStateStore {
  private readonly values = new Map<string, { value: string; expiresAt: number }>()
  private readonly local = new LocalQueue()

  async get(key: string): Promise<string | null> {
    const hit = this.values.get(key)
    if (!hit) return null
    if (hit.expiresAt <= Date.now()) {
      this.values.delete(key)
      return null
    }
    return hit.value
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.values.set(key, { value, expiresAt: Date.now() + ttlMs })
  }

  async deleteIfEquals(key: string, value: string): Promise<void> {
    if (this.values.get(key)?.value === value) this.values.delete(key)
  }

  async withLock<T>(key: string, _options: { ttlMs: number; waitMs: number; label: string }, fn: () => Promise<T>): Promise<T> {
    return this.local.run(key, fn)
  }
}

/**
 * The id a panel login is cached under: an HMAC, keyed with APP_SECRET, of the panel's base URL and every
 * credential the login sends. Another password (or username, or 2FA secret) gives another id, so a panel saved
 * with wrong credentials logs in itself and fails, instead of riding on a login made with the right ones. Keyed,
 * because whoever reads Redis must not be able to test password guesses against the key.
 */
export function loginCacheId(appSecret: string, base: string, credentials: { username: string; password: string; totpSecret?: string | null }): string {
  return createHmac('sha256', appSecret)
    .update(JSON.stringify(['panel-login', base, credentials.username, credentials.password, credentials.totpSecret ?? null]))
    .digest('hex')
    .slice(0, 32)
}

/** Key-derivation purpose of the panel logins cached in the store (see db/crypto.ts). */
export const PANEL_SESSION_PURPOSE = 'panel-session'

/** A cached panel login: `value` is what the panel accepts, `stored` the sealed form the store holds. */
export interface CachedSession {
  value: string
  stored: string
}

/**
 * Panel logins (Marzban bearer tokens, 3X-UI session cookies) in the shared store, sealed with
 * AES-GCM under APP_SECRET: whoever can read Redis cannot act as the panel admin. A value that
 * cannot be unsealed (another APP_SECRET, tampered or left from before sealing) counts as no login.
 */
export class SealedSessionCache {
  constructor(
    private readonly store: PanelStateStore,
    private readonly appSecret: string,
  ) {}

  async get(key: string): Promise<CachedSession | null> {
    const stored = await this.store.get(key)
    if (!stored) return null
    try {
      return { value: unseal(this.appSecret, PANEL_SESSION_PURPOSE, stored), stored }
    } catch {
      return null
    }
  }

  async set(key: string, value: string, ttlMs: number): Promise<CachedSession> {
    const stored = seal(this.appSecret, PANEL_SESSION_PURPOSE, value)
    await this.store.set(key, stored, ttlMs)
    return { value, stored }
  }

  /** Deletes the key only while it still holds this login (a fresher one from another process survives). */
  async forget(key: string, session: CachedSession): Promise<void> {
    await this.store.deleteIfEquals(key, session.stored)
  }
}

/** Runs `fn` once for concurrent callers with the same key (e.g. one login for sixteen requests). */
export class SingleFlight {
  private readonly inFlight = new Map<string, Promise<unknown>>()

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.inFlight.get(key)
    if (existing) return existing as Promise<T>
    const p = fn().finally(() => this.inFlight.delete(key))
    this.inFlight.set(key, p)
    return p
  }
}
