import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { envWithDefaults, parseDuration, parseEnv, redisPrefixFor } from './env.ts'
import { lastStatusKey, redisNames, statusChannel } from './redis-names.ts'

const SECRET = 'a'.repeat(32)

describe('parseEnv', () => {
  it('fills defaults for everything optional', () => {
    const result = parseEnv({ APP_SECRET: SECRET })
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.env).toMatchObject({
      NODE_ENV: 'development',
      REDIS_URL: 'redis://127.0.0.1:6379',
      TEMPORAL_NAMESPACE: 'default',
      PORT: 3000,
      CURRENCY: 'IRT',
      DEFAULT_LOCALE: 'fa',
      TELEGRAM_ADMIN_CHAT_IDS: [],
      PROVISION_DEADLINE: 30 * 60_000,
      PAYMENT_REMINDERS: [3_600_000, 6 * 3_600_000],
      PAYMENT_EXPIRY: 72 * 3_600_000,
      GATEWAY_PAYMENT_WINDOW: 3_600_000,
      NEGATIVE_CREDIT_GRACE: 24 * 3_600_000,
      PERIODIC_INTERVAL: 10 * 60_000,
      RECONCILE_INTERVAL: 5 * 60_000,
    })
    expect(result.env.DATABASE_URL).toBeUndefined()
    expect(result.env.TEMPORAL_ADDRESS).toBeUndefined()
    expect(result.env.TELEGRAM_BOT_TOKEN).toBeUndefined()
  })

  it('reads and converts given values', () => {
    const result = parseEnv({
      APP_SECRET: SECRET,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/flowpanel',
      PORT: '8080',
      TELEGRAM_BOT_TOKEN: '  ',
      TELEGRAM_ADMIN_CHAT_IDS: '123, -100456',
      PAYMENT_REMINDERS: '6h,30m',
      NEGATIVE_CREDIT_GRACE: '2d',
      PERIODIC_INTERVAL: '15m',
      RECONCILE_INTERVAL: '2m',
    })
    expect(result.ok && result.env.TELEGRAM_BOT_TOKEN).toBeUndefined()
    expect(result.ok && result.env).toMatchObject({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/flowpanel',
      PORT: 8080,
      TELEGRAM_ADMIN_CHAT_IDS: ['123', '-100456'],
      PAYMENT_REMINDERS: [30 * 60_000, 6 * 3_600_000],
      NEGATIVE_CREDIT_GRACE: 48 * 3_600_000,
      PERIODIC_INTERVAL: 15 * 60_000,
      RECONCILE_INTERVAL: 2 * 60_000,
    })
  })

  it('lists every problem of a bad configuration, each naming its variable', () => {
    const result = parseEnv({
      APP_SECRET: 'short',
      DATABASE_URL: 'not a url',
      PORT: '70000',
      DEFAULT_LOCALE: 'de',
      TELEGRAM_ADMIN_CHAT_IDS: '12,@someone',
      PAYMENT_EXPIRY: 'soon',
      NODE_ENV: 'staging',
    })
    expect(result.ok).toBe(false)
    if (result.ok) return
    const byVariable = Object.fromEntries(result.problems.map((p) => [p.split(':')[0], p]))
    expect(Object.keys(byVariable).sort()).toEqual(
      ['APP_SECRET', 'DATABASE_URL', 'DEFAULT_LOCALE', 'NODE_ENV', 'PAYMENT_EXPIRY', 'PORT', 'TELEGRAM_ADMIN_CHAT_IDS'].sort(),
    )
    expect(byVariable.APP_SECRET).toBe('APP_SECRET: APP_SECRET must be at least 32 characters (generate one with `openssl rand -hex 32`)')
    expect(byVariable.DATABASE_URL).toBe('DATABASE_URL: DATABASE_URL must be a URL')
    expect(byVariable.TELEGRAM_ADMIN_CHAT_IDS).toBe('TELEGRAM_ADMIN_CHAT_IDS: "@someone" is not a Telegram chat id')
    expect(byVariable.PAYMENT_EXPIRY).toBe('PAYMENT_EXPIRY: "soon" is not a duration (use e.g. 30m, 6h, 72h)')
  })

  it('says a missing required variable "is required"', () => {
    const result = parseEnv({})
    expect(result).toEqual({ ok: false, problems: ['APP_SECRET: is required'] })
  })

  it('never echoes the value of a secret in a problem', () => {
    const result = parseEnv({ APP_SECRET: 'hunter2-do-not-print' })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.problems.join('\n')).not.toContain('hunter2')
  })
})

describe('REDIS_PREFIX', () => {
  const prefixOf = (source: Record<string, string>) => {
    const result = parseEnv({ APP_SECRET: SECRET, ...source })
    if (!result.ok) throw new Error(result.problems.join('; '))
    return result.env.REDIS_PREFIX
  }

  it('is derived from the database when unset, so two databases on one Redis get two prefixes', () => {
    const shop = prefixOf({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/shop' })
    expect(shop).toMatch(/^flowpanel:shop:[0-9a-f]{8}$/)
    expect(prefixOf({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/other' })).not.toBe(shop)
    // The same database name on another Postgres server is another installation.
    expect(prefixOf({ DATABASE_URL: 'postgres://u:p@db.example:5432/shop' })).not.toBe(shop)
    expect(prefixOf({ DATABASE_URL: 'postgres://u:p@127.0.0.1:6543/shop' })).not.toBe(shop)
  })

  it('is the same for every process of one installation, whatever the credentials or loopback name', () => {
    const shop = prefixOf({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/shop' })
    expect(prefixOf({ DATABASE_URL: 'postgres://other:secret@localhost/shop?sslmode=disable' })).toBe(shop)
    expect(redisPrefixFor('postgres://u:p@127.0.0.1:5432/shop')).toBe(shop)
  })

  it('never carries the password and keeps only safe characters of the database name', () => {
    const prefix = prefixOf({ DATABASE_URL: 'postgres://u:hunter2@127.0.0.1/my%20shop*' })
    expect(prefix).not.toContain('hunter2')
    expect(prefix).toMatch(/^flowpanel:my_shop_:[0-9a-f]{8}$/)
  })

  it('takes an explicit value as it is, without a trailing separator', () => {
    expect(prefixOf({ REDIS_PREFIX: 'shop-1', DATABASE_URL: 'postgres://u:p@127.0.0.1/shop' })).toBe('shop-1')
    expect(prefixOf({ REDIS_PREFIX: 'tenants:shop-1:' })).toBe('tenants:shop-1')
  })

  it('refuses spaces, glob characters and a leading separator', () => {
    for (const bad of ['my shop', 'shop*', ':shop', 'a\u0000b']) {
      const result = parseEnv({ APP_SECRET: SECRET, REDIS_PREFIX: bad })
      expect(result.ok, bad).toBe(false)
      if (!result.ok) expect(result.problems[0]).toMatch(/^REDIS_PREFIX: /)
    }
  })
})

describe('redisNames', () => {
  it('puts keys, channels and component scopes under the prefix', () => {
    const names = redisNames({ REDIS_PREFIX: 'shop' })
    expect(names.key('rl', 'login', 7)).toBe('shop:rl:login:7')
    expect(names.channel('status', 'order-1')).toBe('shop:status:order-1')
    expect(names.scope('bot')).toBe('shop:bot:')
    expect(lastStatusKey({ REDIS_PREFIX: 'shop' }, 'order-1')).toBe('shop:status:last:order-1')
    expect(statusChannel({ REDIS_PREFIX: 'other' }, 'order-1')).toBe('other:status:order-1')
  })
})

describe('parseDuration', () => {
  it('reads units and plain milliseconds, and refuses the rest', () => {
    expect(parseDuration('45s')).toBe(45_000)
    expect(parseDuration('1.5h')).toBe(5_400_000)
    expect(parseDuration('250')).toBe(250)
    expect(parseDuration('7d')).toBe(7 * 86_400_000)
    expect(parseDuration('soon')).toBeUndefined()
    expect(parseDuration('-5m')).toBeUndefined()
  })
})

describe('deployment settings', () => {
  const ok = (source: Record<string, string>) => {
    const result = parseEnv({ APP_SECRET: SECRET, ...source })
    if (!result.ok) throw new Error(result.problems.join('; '))
    return result.env
  }
  const problems = (source: Record<string, string>) => {
    const result = parseEnv({ APP_SECRET: SECRET, ...source })
    return result.ok ? [] : result.problems
  }

  it('counts an empty value as unset, so compose can pass ${NAME:-} and the defaults stay here', () => {
    const env = ok({ GATEWAY_PAYMENT_WINDOW: '', RECEIPT_MAX_BYTES: '', PORT: '', TRUST_PROXY: '', DATABASE_WAIT: '' })
    expect(env.GATEWAY_PAYMENT_WINDOW).toBe(3_600_000)
    expect(env.RECEIPT_MAX_BYTES).toBe(5 * 1024 * 1024)
    expect(env.PORT).toBe(3000)
    expect(env.TRUST_PROXY).toEqual(['loopback'])
    expect(env.DATABASE_WAIT).toBe(60_000)
    expect(env.HEALTH_PORT).toBe(3001)
  })

  it('reads TRUST_PROXY as hops, none, or names, addresses and subnets; refuses anything else', () => {
    expect(ok({ TRUST_PROXY: 'loopback, uniquelocal' }).TRUST_PROXY).toEqual(['loopback', 'uniquelocal'])
    expect(ok({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1)
    expect(ok({ TRUST_PROXY: 'none' }).TRUST_PROXY).toBe(false)
    expect(ok({ TRUST_PROXY: '172.18.0.1, 10.0.0.0/8, fd00::/8' }).TRUST_PROXY).toEqual(['172.18.0.1', '10.0.0.0/8', 'fd00::/8'])
    expect(problems({ TRUST_PROXY: 'everyone' })).toEqual([expect.stringMatching(/^TRUST_PROXY: "everyone" is not a proxy to trust/)])
    expect(problems({ TRUST_PROXY: 'loopback, 10.0.0.0/40' })).toEqual([expect.stringMatching(/^TRUST_PROXY: "10\.0\.0\.0\/40"/)])
    expect(problems({ TRUST_PROXY: 'true' })).toHaveLength(1)
  })

  it('requires METRICS_TOKEN in production unless metrics are opened to private networks on purpose', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^METRICS_TOKEN: is required in production/)])
    expect(problems({ NODE_ENV: 'production', METRICS_TOKEN: 'change-me-metrics-token-change-me' })).toEqual([expect.stringMatching(/example value/)])
    expect(problems({ NODE_ENV: 'production', METRICS_TOKEN: 'short' })).toEqual([expect.stringMatching(/at least 16 characters/)])
    const withToken = ok({ NODE_ENV: 'production', METRICS_TOKEN: 'f'.repeat(64) })
    expect(withToken.METRICS_PRIVATE_NETWORKS).toBe(false)
    expect(ok({ NODE_ENV: 'production', METRICS_PRIVATE_NETWORKS: 'true' }).METRICS_PRIVATE_NETWORKS).toBe(true)
    // Outside production (npm start on a laptop) private callers may read them, as before.
    expect(ok({}).METRICS_PRIVATE_NETWORKS).toBe(true)
    expect(ok({ METRICS_PRIVATE_NETWORKS: 'false' }).METRICS_PRIVATE_NETWORKS).toBe(false)
    expect(problems({ METRICS_PRIVATE_NETWORKS: 'yes' })).toEqual([expect.stringMatching(/METRICS_PRIVATE_NETWORKS must be true or false/)])
  })

  it('reads FIRST_ADMIN_USERNAME as a username, and unset or empty as "generate one"', () => {
    expect(ok({ FIRST_ADMIN_USERNAME: ' owner.1 ' }).FIRST_ADMIN_USERNAME).toBe('owner.1')
    expect(ok({ FIRST_ADMIN_USERNAME: '' }).FIRST_ADMIN_USERNAME).toBeUndefined()
    expect(ok({}).FIRST_ADMIN_USERNAME).toBeUndefined()
    expect(problems({ FIRST_ADMIN_USERNAME: 'no spaces' })).toEqual([expect.stringMatching(/^FIRST_ADMIN_USERNAME: must be 3–32 letters/)])
  })
})

describe('envWithDefaults', () => {
  it('throws with the list of problems instead of exiting', () => {
    expect(() => envWithDefaults({ PORT: 'eighty' })).toThrow(/invalid test configuration: PORT: /)
  })
})

describe('getEnv', () => {
  it('exits 1 and prints every problem, not a stack trace', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '-e', `import('./config/env.ts').then((m) => m.getEnv())`],
      { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH, NODE_ENV: 'test', PORT: 'x', DEFAULT_LOCALE: 'de' }, timeout: 60_000 },
    )
    expect(child.status).toBe(1)
    expect(child.stderr).toContain('flowpanel cannot start: the configuration has 3 problem(s):')
    expect(child.stderr).toContain('  - APP_SECRET: is required')
    expect(child.stderr).toContain('  - PORT: ')
    expect(child.stderr).toContain('  - DEFAULT_LOCALE: ')
    expect(child.stderr).not.toMatch(/\n\s+at /)
  })
})
