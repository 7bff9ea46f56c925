import type { Redis } from 'ioredis'
import type { Env } from '#config/env.ts'
import { redisNames } from '#config/redis-names.ts'
import { Secret, TOTP } from 'otpauth'

/** The db/crypto.ts purpose TOTP secrets are sealed under. */
export const TOTP_PURPOSE = 'totp'

/** RFC 6238 codes: 6 digits, 30 s steps, one step of clock drift either way. */
const PERIOD = 30

function totpFor(secretBase32: string, label = 'flowpanel'): TOTP {
  return new TOTP({ issuer: 'flowpanel', label, algorithm: 'SHA1', digits: 6, period: PERIOD, secret: Secret.fromBase32(secretBase32) })
}

export function generateTotpSecret(): string {
  return new Secret({ size: 20 }).base32
}

/** The otpauth:// URI authenticator apps scan. */
export function totpUri(secretBase32: string, username: string): string {
  return totpFor(secretBase32, username).toString()
}

/** The current code, for tests and scripts. */
export function currentTotpCode(secretBase32: string, timestamp = Date.now()): string {
  return totpFor(secretBase32).generate({ timestamp })
}

/**
 * Checks a code and refuses a code that was already used (each time step is accepted once per user),
 * so a code seen over someone's shoulder cannot be replayed.
 */
export async function verifyTotp(deps: { redis: Redis; env: Pick<Env, 'REDIS_PREFIX'> }, userId: number, secretBase32: string, code: string, timestamp = Date.now()): Promise<boolean> {
  const token = code.replace(/[\s-]/g, '').replace(/[۰-۹]/g, (d) => String('۰۱۲۳۴۵۶۷۸۹'.indexOf(d)))
  if (!/^\d{6}$/.test(token)) return false
  const delta = totpFor(secretBase32).validate({ token, timestamp, window: 1 })
  if (delta === null) return false
  const step = Math.floor(timestamp / 1000 / PERIOD) + delta
  const fresh = await deps.redis.set(redisNames(deps.env).key('totp', 'used', userId, step), '1', 'EX', PERIOD * 4, 'NX')
  return fresh === 'OK'
}
