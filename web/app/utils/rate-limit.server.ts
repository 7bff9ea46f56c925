import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Env } from '#config/env.ts'
import { redisNames } from '#config/redis-names.ts'

/**
 * Fixed-window failure counters in Redis. A key is blocked once it has `max` failures in its window and
 * stays blocked until the window's key expires, which gives the "try again in N s" we show.
 */
export interface Limit {
  max: number
  windowSeconds: number
}

export const LOGIN_LIMITS = {
  /** Failed sign-ins from one address, whatever the usernames (stops spraying). */
  perIp: { max: 20, windowSeconds: 15 * 60 },
  /** Failed sign-ins for one username from one address (stops guessing one password from one place). */
  perUsernameAndIp: { max: 5, windowSeconds: 15 * 60 },
  /**
   * Failed sign-ins for one username from anywhere (stops guessing spread over many addresses). Ten times the
   * per-address allowance over four times the window, so a few addresses guessing never lock the owner out of theirs.
   */
  perUsername: { max: 50, windowSeconds: 60 * 60 },
  /** Wrong two-step codes for one user from one address. */
  perTwoFactorUserAndIp: { max: 5, windowSeconds: 15 * 60 },
  /** Wrong two-step codes for one user from anywhere: slower, as for passwords, so one address cannot lock the owner out. */
  perTwoFactorUser: { max: 30, windowSeconds: 60 * 60 },
  /**
   * Sign-ups from one address that reached the username check: accounts made and "username taken" answers alike,
   * so an address can learn whether at most this many usernames exist per hour.
   */
  registrationsPerIp: { max: 10, windowSeconds: 60 * 60 },
} satisfies Record<string, Limit>

const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32)

/** The counters' keys, under the installation's prefix (limits of one installation never count for another). */
export function limitKeys(env: Pick<Env, 'REDIS_PREFIX'>) {
  const names = redisNames(env)
  return {
    loginIp: (ip: string) => names.key('rl', 'login', 'ip', digest(ip)),
    loginUser: (username: string) => names.key('rl', 'login', 'user', digest(username.trim().toLowerCase())),
    loginUserIp: (username: string, ip: string) => names.key('rl', 'login', 'user-ip', digest(`${username.trim().toLowerCase()}\n${ip}`)),
    twoFactor: (userId: number) => names.key('rl', '2fa', 'user', userId),
    twoFactorIp: (userId: number, ip: string) => names.key('rl', '2fa', 'user-ip', digest(`${userId}\n${ip}`)),
    register: (ip: string) => names.key('rl', 'register', 'ip', digest(ip)),
  }
}

type Checks = [key: string, limit: Limit][]

/**
 * The counters a guess of `username`'s password from `ip` is checked against and counted in: at sign-in, and where a
 * signed-in page asks for the current password (a stolen session must not guess it without limit). `pair` is the
 * one a success clears.
 */
export function passwordGuessChecks(env: Pick<Env, 'REDIS_PREFIX'>, username: string, ip: string): { checks: Checks; pair: string } {
  const keys = limitKeys(env)
  const pair = keys.loginUserIp(username, ip)
  return {
    pair,
    checks: [
      [keys.loginIp(ip), LOGIN_LIMITS.perIp],
      [pair, LOGIN_LIMITS.perUsernameAndIp],
      [keys.loginUser(username), LOGIN_LIMITS.perUsername],
    ],
  }
}

/** The same for two-step codes of one user: at `/two-factor`, and when turning two-step on or off. */
export function codeGuessChecks(env: Pick<Env, 'REDIS_PREFIX'>, userId: number, ip: string): { checks: Checks; pair: string } {
  const keys = limitKeys(env)
  const pair = keys.twoFactorIp(userId, ip)
  return {
    pair,
    checks: [
      [pair, LOGIN_LIMITS.perTwoFactorUserAndIp],
      [keys.twoFactor(userId), LOGIN_LIMITS.perTwoFactorUser],
    ],
  }
}

export async function recordFailures(redis: Redis, checks: Checks): Promise<void> {
  await Promise.all(checks.map(([key, limit]) => recordFailure(redis, key, limit)))
}

/** Seconds until `key` unblocks, or 0 when it is not blocked. */
export async function blockedFor(redis: Redis, key: string, limit: Limit): Promise<number> {
  const [count, ttl] = await redis.multi().get(key).ttl(key).exec().then((r) => [r?.[0]?.[1], r?.[1]?.[1]] as [string | null, number])
  if (count === null || Number(count) < limit.max) return 0
  return ttl > 0 ? ttl : limit.windowSeconds
}

/** The longest wait among several keys (0 when none is blocked). */
export async function longestBlock(redis: Redis, checks: [key: string, limit: Limit][]): Promise<number> {
  const waits = await Promise.all(checks.map(([key, limit]) => blockedFor(redis, key, limit)))
  return Math.max(0, ...waits)
}

export async function recordFailure(redis: Redis, key: string, limit: Limit): Promise<void> {
  await redis.multi().set(key, '0', 'EX', limit.windowSeconds, 'NX').incr(key).exec()
}

export async function clearFailures(redis: Redis, key: string): Promise<void> {
  await redis.del(key)
}
