/**
 * Accounts created per second through each panel adapter against its fake panel.
 *
 *   npm run bench:panels [-- --count N] [-- --repeat R]
 *
 * Scenarios: Marzban and 3X-UI × injected latency 0 ms and 50 ms (per HTTP request) × concurrency 1 and 16.
 * Each scenario gets a fresh fake panel, logs in once before the clock starts, then creates accounts
 * through the adapter with the Redis-backed store the workers use (so 3X-UI creates go through the
 * cross-process write lock and are serialised per panel). Every created account is checked on the
 * fake afterwards; a missing one fails the run (exit 1). Each scenario runs R times (default 3) and the
 * median rate is printed, with the slowest and fastest run beside it (shared machines are noisy).
 */
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { parseArgv } from '../bin/cli.ts'
import { createPanelAdapter } from '#activities/panels/index.ts'
import { RedisPanelStore } from '#activities/panels/store.ts'
import type { PanelAdapter, PanelType } from '#activities/panels/types.ts'
import { ownerMarker, usernameForOrder } from '#activities/panels/username.ts'
import { startFakeMarzban } from '#tests/fakes/marzban.ts'
import { startFakeXui } from '#tests/fakes/3x-ui.ts'

const { flags } = parseArgv(process.argv.slice(2))
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** Seals the panel logins the adapters cache in Redis, as APP_SECRET does in production. */
const APP_SECRET = randomBytes(32).toString('hex')

interface Scenario {
  type: PanelType
  latencyMs: number
  concurrency: number
}

interface Result extends Scenario {
  accounts: number
  seconds: number
  perSecond: number
  verified: boolean
}

interface Summary extends Scenario {
  accounts: number
  median: number
  slowest: number
  fastest: number
  verified: boolean
}

const repeat = typeof flags.repeat === 'string' ? Math.max(1, Number(flags.repeat)) : 3

function countFor(s: Scenario): number {
  if (typeof flags.count === 'string') return Number(flags.count)
  if (s.latencyMs === 0) return 500
  // Serialised 3X-UI writes at 50 ms make ~20/s whatever the concurrency; keep each run a few seconds.
  if (s.concurrency === 1 || s.type === '3x-ui') return 60
  return 320
}

async function runScenario(redis: Redis, prefix: string, s: Scenario, firstOrder: number): Promise<Result> {
  const fake = s.type === 'marzban' ? await startFakeMarzban() : await startFakeXui()
  const adapter: PanelAdapter = createPanelAdapter(
    { type: s.type, baseUrl: fake.url, username: 'admin', password: 'admin', settings: s.type === '3x-ui' ? { inboundId: 1 } : {}, timeoutMs: 10_000 },
    { store: new RedisPanelStore(redis, prefix), appSecret: APP_SECRET },
  )
  try {
    // Log in, read inbounds and subscription settings before timing.
    await adapter.getAccount('fp_warmup')
    await adapter.createAccount({ username: usernameForOrder(firstOrder), owner: ownerMarker(firstOrder), expiresAt: null, dataLimitBytes: 0 })
    fake.latencyMs = s.latencyMs
    const count = countFor(s)
    let next = 0
    const expiresAt = new Date(Date.now() + 30 * 86_400_000)
    const started = performance.now()
    await Promise.all(
      Array.from({ length: s.concurrency }, async () => {
        for (let i = next++; i < count; i = next++) {
          const orderId = firstOrder + 1 + i
          await adapter.createAccount({ username: usernameForOrder(orderId), owner: ownerMarker(orderId), expiresAt, dataLimitBytes: 30 * 1024 ** 3 })
        }
      }),
    )
    const seconds = (performance.now() - started) / 1000
    fake.latencyMs = 0
    const stored = s.type === 'marzban' ? (fake as Awaited<ReturnType<typeof startFakeMarzban>>).users().length : (fake as Awaited<ReturnType<typeof startFakeXui>>).clients(1).length
    return { ...s, accounts: count, seconds, perSecond: count / seconds, verified: stored === count + 1 }
  } finally {
    await adapter.close()
    await fake.close()
  }
}

async function main(): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 })
  const prefix = `fp:bench:panels:${process.pid}:${randomBytes(3).toString('hex')}:`
  const results: Summary[] = []
  try {
    let order = 1_000_000
    for (const type of ['marzban', '3x-ui'] as const) {
      for (const latencyMs of [0, 50]) {
        for (const concurrency of [1, 16]) {
          const runs: Result[] = []
          for (let r = 0; r < repeat; r++) {
            runs.push(await runScenario(redis, prefix, { type, latencyMs, concurrency }, order))
            order += 100_000
          }
          const rates = runs.map((x) => x.perSecond).sort((a, b) => a - b)
          results.push({
            type,
            latencyMs,
            concurrency,
            accounts: runs[0]!.accounts,
            median: rates[Math.floor(rates.length / 2)]!,
            slowest: rates[0]!,
            fastest: rates[rates.length - 1]!,
            verified: runs.every((x) => x.verified),
          })
        }
      }
    }
  } finally {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  }

  const header = ['panel', 'latency', 'concurrency', 'accounts/run', 'accounts/s (median)', 'slowest', 'fastest', 'all stored']
  const rows = results.map((r) => [
    r.type,
    `${r.latencyMs} ms`,
    String(r.concurrency),
    String(r.accounts),
    r.median.toFixed(1),
    r.slowest.toFixed(1),
    r.fastest.toFixed(1),
    r.verified ? 'yes' : 'NO',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ')
  process.stdout.write(`accounts created per second through each adapter against its fake panel (${repeat} run(s) each, node ${process.version})\n`)
  process.stdout.write(line(header) + '\n')
  process.stdout.write(widths.map((w) => '-'.repeat(w)).join('  ') + '\n')
  for (const r of rows) process.stdout.write(line(r) + '\n')
  return results.every((r) => r.verified) ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`)
    process.exit(1)
  },
)
