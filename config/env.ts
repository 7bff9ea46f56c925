import { createHash } from 'node:crypto'
import { isIP } from 'node:net'
import { z } from 'zod'

/** Durations in config are written like `30m`, `1h`, `72h`, `45s`, `7d` or plain milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim())
  if (!m) return undefined
  const n = Number(m[1])
  const unit = m[2] ?? 'ms'
  const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]!
  return Math.round(n * factor)
}

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text)
      if (ms === undefined || ms <= 0) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${text}" is not a duration (use e.g. 30m, 6h, 72h)` })
        return z.NEVER
      }
      return ms
    })

const durationList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const parts = text.split(',').map((p) => p.trim()).filter(Boolean)
      const out: number[] = []
      for (const p of parts) {
        const ms = parseDuration(p)
        if (ms === undefined || ms <= 0) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${p}" is not a duration (use e.g. 1h,6h)` })
          return z.NEVER
        }
        out.push(ms)
      }
      return out.sort((a, b) => a - b)
    })

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))

const url = (what: string) =>
  z.string().refine((v) => {
    try {
      new URL(v)
      return true
    } catch {
      return false
    }
  }, `${what} must be a URL`)

const booleanText = (name: string) =>
  optionalString.pipe(z.enum(['true', 'false'], { errorMap: () => ({ message: `${name} must be true or false` }) }).optional()).transform((v) => (v === undefined ? undefined : v === 'true'))

/** Names Express's `trust proxy` knows, besides addresses and subnets. */
const TRUST_PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal']

/**
 * Which peers may say who the client is (X-Forwarded-For), as Express's `trust proxy` takes it: a number of hops,
 * `none`, or a comma-separated list of the names loopback, linklocal, uniquelocal and addresses or subnets (CIDR).
 */
const trustProxy = z
  .string()
  .default('loopback')
  .transform((text, ctx): number | false | string[] => {
    const value = text.trim()
    if (value === 'none') return false
    if (/^\d+$/.test(value)) return Number(value)
    const items = value.split(',').map((s) => s.trim()).filter(Boolean)
    const bad = items.filter((item) => {
      if (TRUST_PROXY_NAMES.includes(item)) return false
      const [address, bits, extra] = item.split('/')
      const family = isIP(address ?? '')
      if (family === 0 || extra !== undefined) return true
      return bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
    })
    if (items.length === 0 || bad.length > 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `"${bad.join(', ') || text}" is not a proxy to trust: use a number of hops, none, or ${TRUST_PROXY_NAMES.join(', ')}, addresses and subnets, comma-separated`,
      })
      return z.NEVER
    }
    return items
  })

export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** Unset only for the embedded default (`npm start`), which then runs its own Postgres. */
  DATABASE_URL: url('DATABASE_URL').optional(),
  /** How long start-up waits for Postgres to accept connections (a database container still starting). */
  DATABASE_WAIT: duration('60s'),
  REDIS_URL: url('REDIS_URL').default('redis://127.0.0.1:6379'),
  /** Start of every Redis key and channel of this installation; unset derives one from DATABASE_URL (see redisPrefixFor). */
  REDIS_PREFIX: optionalString.pipe(
    z
      .string()
      .max(100, 'REDIS_PREFIX must be at most 100 characters')
      .regex(/^[A-Za-z0-9_.@-][A-Za-z0-9_.@:-]*$/, 'REDIS_PREFIX may hold only letters, digits and _ . @ : - (not starting with :)')
      .optional(),
  ),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_UI_URL: optionalString,
  /** Master secret: session signing and the key that encrypts panel credentials at rest. */
  APP_SECRET: z.string().min(32, 'APP_SECRET must be at least 32 characters (generate one with `openssl rand -hex 32`)'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** Port of /healthz, /readyz and /metrics of a worker started on its own (`--only worker`). */
  HEALTH_PORT: z.coerce.number().int().min(1).max(65535).default(3001),
  /** Peers whose X-Forwarded-For names the client (rate limits, logs, who counts as a private caller). */
  TRUST_PROXY: trustProxy,
  /** Bearer token that may read /metrics and the details of /readyz; required in production unless METRICS_PRIVATE_NETWORKS. */
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'METRICS_TOKEN must be at least 16 characters (openssl rand -hex 32)').optional()),
  /** Also serve /metrics to private addresses without the token; default: yes outside production, no in production. */
  METRICS_PRIVATE_NETWORKS: booleanText('METRICS_PRIVATE_NETWORKS'),
  /** Where the first admin's one-time password is written (mode 0600) instead of being printed. */
  FIRST_ADMIN_FILE: optionalString,
  /**
   * The first admin's username; unset: `admin-` and six random characters, so the name of an install's admin cannot
   * be guessed. The same rule as every username (`USERNAME_PATTERN` in db/users.ts).
   */
  FIRST_ADMIN_USERNAME: optionalString.pipe(
    z
      .string()
      .regex(/^[a-zA-Z0-9_.-]{3,32}$/, 'must be 3–32 letters, digits, dots, dashes or underscores')
      .optional(),
  ),
  PUBLIC_URL: url('PUBLIC_URL').default('http://localhost:3000'),
  CURRENCY: z.string().min(1).default('IRT'),
  DEFAULT_LOCALE: z.enum(['fa', 'en']).default('fa'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  UPLOAD_DIR: z.string().min(1).default('./data/uploads'),
  RECEIPT_MAX_BYTES: z.coerce.number().int().positive().default(5 * 1024 * 1024),
  TELEGRAM_BOT_TOKEN: optionalString,
  TELEGRAM_API_ROOT: url('TELEGRAM_API_ROOT').default('https://api.telegram.org'),
  TELEGRAM_WEBHOOK_SECRET: optionalString,
  TELEGRAM_ADMIN_CHAT_IDS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const ids = text.split(',').map((s) => s.trim()).filter(Boolean)
      for (const id of ids) {
        if (!/^-?\d+$/.test(id)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: `"${id}" is not a Telegram chat id` })
          return z.NEVER
        }
      }
      return ids
    }),
  ZARINPAL_MERCHANT_ID: optionalString,
  ZARINPAL_API_ROOT: url('ZARINPAL_API_ROOT').default('https://payment.zarinpal.com'),
  PROVISION_DEADLINE: duration('30m'),
  PAYMENT_REMINDERS: durationList('1h,6h'),
  PAYMENT_EXPIRY: duration('72h'),
  GATEWAY_PAYMENT_WINDOW: duration('1h'),
  NEGATIVE_CREDIT_GRACE: duration('24h'),
  /** Interval of the periodic-maintenance schedule; each worker start applies it to the schedule. */
  PERIODIC_INTERVAL: duration('10m'),
  /** Interval of the reconcile schedule (work whose workflow was lost); each worker start applies it to the schedule. */
  RECONCILE_INTERVAL: duration('5m'),
})

/** The parsed configuration; REDIS_PREFIX and METRICS_PRIVATE_NETWORKS are always filled in (see parseEnv). */
export type Env = Omit<z.infer<typeof EnvSchema>, 'REDIS_PREFIX' | 'METRICS_PRIVATE_NETWORKS'> & { REDIS_PREFIX: string; METRICS_PRIVATE_NETWORKS: boolean }

/**
 * The Redis prefix of an installation that sets no REDIS_PREFIX: its database's name plus a short hash of the
 * database server's host and port, so two installations sharing one Redis never read each other's keys. Loopback
 * names count as one host, so processes of one installation that write `localhost` or `127.0.0.1` still agree.
 */
export function redisPrefixFor(databaseUrl: string | undefined): string {
  if (!databaseUrl) return 'flowpanel'
  const url = new URL(databaseUrl)
  let name: string
  try {
    name = decodeURIComponent(url.pathname.replace(/^\/+/, ''))
  } catch {
    name = url.pathname.replace(/^\/+/, '')
  }
  // Postgres uses the user's name when the URL names no database.
  name ||= decodeURIComponent(url.username) || 'postgres'
  const host = ['localhost', '127.0.0.1', '[::1]', '::1', ''].includes(url.hostname) ? 'loopback' : url.hostname.toLowerCase()
  const server = createHash('sha256').update(`${host}:${url.port || '5432'}`).digest('hex').slice(0, 8)
  return `flowpanel:${name.replace(/[^A-Za-z0-9_.-]/g, '_')}:${server}`
}

export type ConfigResult = { ok: true; env: Env } | { ok: false; problems: string[] }

/**
 * Parses an environment without side effects; every problem is listed, not only the first. An empty value counts as
 * unset (docker-compose.yml passes `${NAME:-}` for every optional setting, so the defaults live here only).
 */
export function parseEnv(source: Record<string, string | undefined>): ConfigResult {
  const result = EnvSchema.safeParse(Object.fromEntries(Object.entries(source).filter(([, v]) => v !== '')))
  if (result.success) {
    const prefix = result.data.REDIS_PREFIX?.replace(/:+$/, '') || redisPrefixFor(result.data.DATABASE_URL)
    const production = result.data.NODE_ENV === 'production'
    const privateNetworks = result.data.METRICS_PRIVATE_NETWORKS ?? !production
    const problems: string[] = []
    if (production && !result.data.METRICS_TOKEN && !privateNetworks) {
      problems.push('METRICS_TOKEN: is required in production (openssl rand -hex 32), or set METRICS_PRIVATE_NETWORKS=true to serve /metrics to private networks without one')
    }
    if (production && result.data.METRICS_TOKEN && /^change-?me/i.test(result.data.METRICS_TOKEN)) {
      problems.push('METRICS_TOKEN: still has the example value from .env.example (openssl rand -hex 32)')
    }
    if (problems.length > 0) return { ok: false, problems }
    return { ok: true, env: { ...result.data, REDIS_PREFIX: prefix, METRICS_PRIVATE_NETWORKS: privateNetworks } }
  }
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)'
    const message = issue.code === 'invalid_type' && issue.received === 'undefined' ? 'is required' : issue.message
    return `${name}: ${message}`
  })
  return { ok: false, problems }
}

let cached: Env | undefined

/**
 * The process's configuration. On bad or missing values it prints every problem and exits 1:
 * a process must never run half-configured.
 */
export function getEnv(source: Record<string, string | undefined> = process.env): Env {
  if (cached && source === process.env) return cached
  const result = parseEnv(source)
  if (!result.ok) {
    process.stderr.write(
      `flowpanel cannot start: the configuration has ${result.problems.length} problem(s):\n` +
        result.problems.map((p) => `  - ${p}`).join('\n') +
        '\nSee the configuration table in README.md.\n',
    )
    process.exit(1)
  }
  if (source === process.env) cached = result.env
  return result.env
}

/** A config for tests and tools: fills a throwaway secret when none is set. */
export function envWithDefaults(overrides: Record<string, string | undefined> = {}): Env {
  const result = parseEnv({ APP_SECRET: 'test-secret-test-secret-test-secret-0000', ...process.env, ...overrides })
  if (!result.ok) throw new Error(`invalid test configuration: ${result.problems.join('; ')}`)
  return result.env
}
