#!/usr/bin/env -S npx tsx
/**
 * `npm start`: the whole platform in one process.
 *
 *   npm start                      migrate, then web + worker (+ bot when TELEGRAM_BOT_TOKEN is set)
 *   npm start -- --only web        web (+ bot) only          (docker-compose `web`)
 *   npm start -- --only worker     worker only, with /healthz /readyz /metrics on HEALTH_PORT (docker-compose `worker`)
 *   npm start -- --migrate-only    apply migrations and exit (docker-compose `migrate`)
 *
 * With nothing configured it brings its own infrastructure (the "embedded default"):
 * - Postgres: DATABASE_URL, else an embedded Postgres with its data under ./data/pg;
 * - Redis: REDIS_URL; when nothing answers there, a local redis-server if one is installed, else a clear error;
 * - Temporal: TEMPORAL_ADDRESS, else a managed Temporal CLI dev server (persisted under the data folder, with its Web UI);
 * - APP_SECRET: generated once and kept in ./data/app-secret.
 * The first start creates an admin and prints its one-time password. Ctrl-C (or SIGTERM) stops everything,
 * in order, once; a second Ctrl-C forces the exit.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Server } from 'node:http'
import { Redis } from 'ioredis'
import { parseEnv, type Env } from '#config/env.ts'
import { createDb, ensureDatabase, migrateLatest, waitForDatabase, type Db } from '#db/knex.ts'
import { createLogger, errorMessage, type Logger, type LogLevel } from '../infra/logger.ts'
import { createObservabilityApp, mountObservability } from '../infra/health.ts'
import { HttpMetrics } from '../infra/metrics.ts'
import { createTemporalProvider, type TemporalProvider } from '../web/app/utils/temporal.server.ts'
import { prepareBotInProcess, type BotInProcess } from '../bot/serve.ts'
import { parseArgv } from './cli.ts'
import { ensureFirstAdmin, writeFirstAdminFile } from './start/admin.ts'
import { dataDir } from './start/data-dir.ts'
import { startEmbeddedPostgres } from './start/postgres.ts'
import { ensureRedis } from './start/redis.ts'
import { ensureAppSecret } from './start/secret.ts'
import { ensureTemporal, type TemporalHandle } from './start/temporal.ts'
import { startWorker, type RunningWorker } from './start/worker.ts'

const repoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export type Role = 'all' | 'web' | 'worker'

export interface StartOptions {
  role: Role
  migrateOnly: boolean
  /** process.env by default; tests pass their own. */
  env?: Record<string, string | undefined>
  /** Human-facing output (the banner with the admin password); JSON logs go to `logger`. */
  print?: (text: string) => void
  logger?: Logger
  /** Receives the stop function as soon as there is something to stop (a signal during startup uses it). */
  onStopReady?: (stop: () => Promise<void>) => void
}

export interface Platform {
  /** The web app's URL (all / web roles) or the health server's (worker role). */
  url: string | undefined
  env: Env
  temporal: TemporalHandle | undefined
  firstAdmin: { username: string; password: string } | undefined
  /** Stops everything in order; safe to call more than once. */
  stop(): Promise<void>
}

function parseRole(flags: Record<string, string | boolean>): Role {
  const only = flags.only
  if (only === undefined) return 'all'
  if (only === 'web' || only === 'worker') return only
  throw new Error(`--only must be web or worker, got ${String(only)}`)
}

/**
 * Brings the platform up and returns a handle to stop it. Each piece is started only after what it needs
 * is ready, and registered for shutdown as soon as it runs, so a failure half-way stops what was started.
 */
export async function startPlatform(options: StartOptions): Promise<Platform> {
  const source = options.env ?? process.env
  const print = options.print ?? ((text: string) => process.stdout.write(text))
  const level = (['debug', 'info', 'warn', 'error'] as const).includes(source.LOG_LEVEL as LogLevel) ? (source.LOG_LEVEL as LogLevel) : 'info'
  const logger = options.logger ?? createLogger({ level, service: options.role === 'all' ? 'flowpanel' : options.role })
  const data = dataDir(source)
  const stops: { name: string; fn: () => Promise<unknown> }[] = []
  const onStop = (name: string, fn: () => Promise<unknown>) => stops.unshift({ name, fn })
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      for (const { name, fn } of stops) {
        try {
          await fn()
        } catch (error) {
          logger.error('stop-failed', { part: name, error: errorMessage(error) })
        }
      }
      logger.info('stopped', {})
    })()
    return stopping
  }
  options.onStopReady?.(stop)

  try {
    // 0. Everything the operator set must be valid before anything starts (the embedded default fills in
    //    DATABASE_URL, APP_SECRET and TEMPORAL_ADDRESS later, so stand-ins are used for those here).
    const early = validEnv({ APP_SECRET: 'x'.repeat(32), DATABASE_URL: 'postgres://check@127.0.0.1/check', ...dropEmpty(source) })

    // 1. Configuration the embedded default fills in before the env module validates everything.
    const filled: Record<string, string | undefined> = { ...source }
    if (!filled.APP_SECRET) {
      const secret = await ensureAppSecret(data)
      filled.APP_SECRET = secret.secret
      logger.info(secret.created ? 'app-secret-created' : 'app-secret-loaded', { file: secret.file })
    } else if (filled.NODE_ENV === 'production' && /^change-?me/i.test(filled.APP_SECRET)) {
      throw new Error('APP_SECRET still has the example value from .env.example: generate one with `openssl rand -hex 32`')
    }
    if (!filled.DATABASE_URL) {
      if (options.role !== 'all') throw new Error('DATABASE_URL is required with --only and --migrate-only (the embedded Postgres belongs to a plain `npm start`)')
      const pg = await startEmbeddedPostgres({ dataDir: data, logger })
      onStop('embedded postgres', pg.stop)
      filled.DATABASE_URL = pg.url
    }

    // 2. Database and migrations. A database container may still be starting: wait for it, within DATABASE_WAIT.
    const databaseUrl = filled.DATABASE_URL
    await waitForDatabase(databaseUrl, {
      timeoutMs: early.DATABASE_WAIT,
      onRetry: ({ attempt, error, remainingMs }) =>
        logger.info('database-wait', { attempt, error, message: `Postgres is not accepting connections yet; waiting up to ${Math.ceil(remainingMs / 1000)} s more` }),
    })
    await ensureDatabase(databaseUrl).catch((error: unknown) => {
      // A managed database may forbid CREATE DATABASE; it then has to exist already, and migrating says so if not.
      logger.debug('ensure-database-skipped', { error: errorMessage(error) })
    })
    const db: Db = createDb(databaseUrl)
    onStop('database pool', () => db.destroy())
    const applied = await migrateLatest(db)
    logger.info('migrations', { applied: applied.length, names: applied })
    if (options.migrateOnly) {
      await stop()
      return { url: undefined, env: validEnv(filled), temporal: undefined, firstAdmin: undefined, stop }
    }

    // 3. Redis and Temporal.
    const redisHandle = await ensureRedis({ url: filled.REDIS_URL ?? 'redis://127.0.0.1:6379', dataDir: data, logger })
    onStop('redis-server', redisHandle.stop)
    filled.REDIS_URL = redisHandle.url
    const temporal = await ensureTemporal({
      address: filled.TEMPORAL_ADDRESS?.trim() || undefined,
      cliPath: filled.TEMPORAL_CLI_PATH?.trim() || undefined,
      namespace: filled.TEMPORAL_NAMESPACE?.trim() || 'default',
      dataDir: data,
      logger,
    })
    onStop('temporal server', temporal.stop)
    filled.TEMPORAL_ADDRESS = temporal.address
    if (temporal.uiUrl && !filled.TEMPORAL_UI_URL) filled.TEMPORAL_UI_URL = temporal.uiUrl

    const env = validEnv(filled)
    const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 3 })
    redis.on('error', (error) => logger.warn('redis-error', { error: errorMessage(error) }))
    onStop('redis client', () => redis.quit())
    const provider: TemporalProvider = createTemporalProvider({ address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE, uiUrl: env.TEMPORAL_UI_URL })
    onStop('temporal client', () => provider.close())
    const observability = {
      db,
      redis,
      temporal: () => provider.getClient(),
      namespace: env.TEMPORAL_NAMESPACE,
      logger,
      stuckAfterSeconds: Math.round(env.PROVISION_DEADLINE / 1000),
      metricsToken: env.METRICS_TOKEN,
      privateNetworks: env.METRICS_PRIVATE_NETWORKS,
      http: new HttpMetrics(),
    }

    // 4. First admin (web roles only: the worker never creates users).
    const firstAdmin = options.role === 'worker' ? undefined : await ensureFirstAdmin(db, { username: env.FIRST_ADMIN_USERNAME })

    // 5. Worker.
    let worker: RunningWorker | undefined
    if (options.role !== 'web') {
      worker = await startWorker({ env, db, redis, client: await provider.getClient(), address: env.TEMPORAL_ADDRESS!, logger, shutdownGraceSeconds: options.role === 'all' ? 10 : 30 })
      onStop('worker', worker.stop)
      worker.done.catch((error: unknown) => {
        logger.error('worker-crashed', { error: errorMessage(error) })
        process.exitCode = 1
        void stop()
      })
    }

    // 6. Web (or, for a worker on its own, a small health server).
    let url: string | undefined
    if (options.role !== 'worker') {
      const production = env.NODE_ENV === 'production'
      if (production && !fs.existsSync(path.join(repoDir, 'web/build/server/index.js'))) {
        throw new Error('NODE_ENV is production but the web app is not built: run `npm run build:web` first')
      }
      // The bot lives in the web process: by webhook behind a public https URL, else by long polling.
      let bot: BotInProcess | undefined
      if (env.TELEGRAM_BOT_TOKEN) {
        try {
          bot = await prepareBotInProcess({ env, db, redis, temporal: provider, logger: logger.child({ component: 'bot' }) })
        } catch (error) {
          logger.error('bot-not-started', { error: errorMessage(error), message: 'the web app runs on without the Telegram bot' })
        }
      }
      const { startWebServer } = await import('../web/server.ts')
      const web = await startWebServer({
        env,
        db,
        redis,
        temporal: provider,
        mode: production ? 'production' : 'development',
        hmr: false,
        mountRoutes: (app) => {
          mountObservability(app, { ...observability, info: { service: options.role === 'all' ? 'flowpanel' : 'web' } })
          bot?.mountRoutes(app)
        },
      })
      onStop('web server', web.close)
      if (bot) {
        const running = bot
        await running.start().catch((error: unknown) => logger.error('bot-not-started', { error: errorMessage(error) }))
        onStop('telegram bot', () => running.stop())
        logger.info('bot-started', { mode: running.mode })
      }
      url = env.PUBLIC_URL.startsWith('http://localhost') ? web.url.replace('127.0.0.1', 'localhost') : env.PUBLIC_URL
      logger.info('web-started', { url: web.url, publicUrl: env.PUBLIC_URL, mode: production ? 'production' : 'development' })
    } else {
      const port = env.HEALTH_PORT
      const app = createObservabilityApp({ ...observability, trustProxy: env.TRUST_PROXY, info: { service: 'worker' } })
      const server = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(port, '0.0.0.0', () => resolve(s)).once('error', reject)
      })
      onStop('health server', () => new Promise<void>((resolve) => server.close(() => resolve())))
      url = `http://127.0.0.1:${port}`
      logger.info('health-server-started', { url })
    }

    // In a deployment whose output is kept in logs the one-time password goes to a file the operator reads once.
    const firstAdminFile = firstAdmin && env.FIRST_ADMIN_FILE ? path.resolve(env.FIRST_ADMIN_FILE) : undefined
    if (firstAdmin && firstAdminFile) {
      await writeFirstAdminFile(firstAdminFile, firstAdmin, `${url}/login`)
      logger.info('first-admin-created', { username: firstAdmin.username, file: firstAdminFile })
    }
    logger.info('ready', { role: options.role, url, temporal: temporal.kind })
    if (options.role !== 'worker') print(banner({ url: url!, temporal, firstAdmin, firstAdminFile, data, embeddedPostgres: !source.DATABASE_URL }))
    return { url, env, temporal, firstAdmin, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

function dropEmpty(source: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(source).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''))
}

/** The parsed configuration, or an error listing every problem (thrown, so what already runs is stopped). */
function validEnv(source: Record<string, string | undefined>): Env {
  const result = parseEnv(source)
  if (result.ok) return result.env
  throw new Error(
    `the configuration has ${result.problems.length} problem(s):\n${result.problems.map((p) => `  - ${p}`).join('\n')}\nSee the configuration table in README.md.`,
  )
}

function banner(info: {
  url: string
  temporal: TemporalHandle
  firstAdmin?: { username: string; password: string }
  firstAdminFile?: string
  data: string
  embeddedPostgres: boolean
}): string {
  const lines = ['', `  flowpanel is running: ${info.url}`, `  Temporal: ${info.temporal.address}`]
  if (info.temporal.uiUrl) lines.push(`  Temporal UI: ${info.temporal.uiUrl}`)
  if (info.firstAdmin && info.firstAdminFile) {
    lines.push(
      '',
      `  First start: an admin was created. Its username and one-time password are in ${info.firstAdminFile}`,
      '  (readable by this user only): docker compose exec web cat ' + info.firstAdminFile,
      '  Sign in, change the password, then delete the file.',
    )
  } else if (info.firstAdmin) {
    lines.push(
      '',
      `  First start: an admin was created. Sign in at ${info.url}/login with`,
      `      username: ${info.firstAdmin.username}`,
      `      password: ${info.firstAdmin.password}`,
      '  This password is shown only now. Change it after signing in.',
      `  Lost it? npm run cli -- admin reset-password --username ${info.firstAdmin.username}`,
    )
  }
  if (info.embeddedPostgres) lines.push('', `  Database: embedded Postgres, data in ${path.join(info.data, 'pg')}`)
  lines.push('', '  Press Ctrl-C to stop.', '', '')
  return lines.join('\n')
}

async function main(): Promise<void> {
  const { flags } = parseArgv(process.argv.slice(2))
  const role = parseRole(flags)
  const logger = createLogger({ level: (process.env.LOG_LEVEL as LogLevel) ?? 'info', service: role === 'all' ? 'flowpanel' : role })
  let stopPlatform: (() => Promise<void>) | undefined
  let firstSignalAt = 0
  const onSignal = (signal: NodeJS.Signals) => {
    // One Ctrl-C can arrive twice: the terminal signals the whole process group and a launcher (npm, npx)
    // may relay it too. Only a second press, a moment later, forces the exit. (`npm start` runs node with the
    // tsx loader rather than the tsx launcher, which SIGKILLs a child that is slow to acknowledge a signal.)
    if (firstSignalAt !== 0) {
      if (Date.now() - firstSignalAt < 1500) return
      logger.warn('forced-exit', { signal })
      process.exit(130)
    }
    firstSignalAt = Date.now()
    logger.info('stopping', { signal, message: 'finishing running work; press Ctrl-C again to force' })
    void (stopPlatform ? stopPlatform() : Promise.resolve()).then(() => process.exit(process.exitCode ?? 0))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)
  await startPlatform({ role, migrateOnly: flags['migrate-only'] === true, logger, onStopReady: (stop) => (stopPlatform = stop) })
  if (flags['migrate-only'] === true) process.exit(0)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((error: unknown) => {
    process.stderr.write(`flowpanel cannot start: ${errorMessage(error)}\n`)
    process.exit(1)
  })
}
