import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import knexFactory, { type Knex } from 'knex'
import pg from 'pg'
import { knexSnakeCaseMappers } from 'objection'

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../migrations')

export type Db = Knex

/**
 * One knex instance per process. Columns are snake_case in Postgres and camelCase in TypeScript;
 * the mapper applies to both knex queries and objection models. Raw SQL strings are not mapped.
 */
export function createDb(databaseUrl: string, options: { pool?: { min?: number; max?: number } } = {}): Db {
  return knexFactory({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: 0, max: 10, ...options.pool },
    ...knexSnakeCaseMappers(),
  })
}

type MigrationModule = { up: (knex: Knex) => Promise<void>; down: (knex: Knex) => Promise<void> }

/** `.ts` when this module runs from source, `.js` when it runs compiled (the image's dist/, see tsconfig.build.json). */
const MODULE_EXT = path.extname(fileURLToPath(import.meta.url))

/**
 * Loads the migrations with this module's own `import()`, so they go through whichever loader runs the process
 * (tsx for the CLI, vite for vitest, plain node for the compiled server). knex's default loader imports them
 * natively, which fails on `.ts` files under vitest. Names are the `.ts` file names, as knex has always recorded
 * them, whichever of the two is loaded.
 */
export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    const files = await readdir(MIGRATIONS_DIR)
    return files.filter((f) => f.endsWith(MODULE_EXT) && !f.endsWith('.d.ts') && !f.endsWith(`.test${MODULE_EXT}`)).sort()
  },
  getMigrationName(file) {
    return file.replace(/\.js$/, '.ts')
  },
  async getMigration(file) {
    return (await import(pathToFileURL(path.join(MIGRATIONS_DIR, file)).href)) as MigrationModule
  },
}

export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]]
  return applied
}

export async function migrateRollback(db: Db, options: { all?: boolean } = {}): Promise<string[]> {
  const [, undone] = (await db.migrate.rollback({ migrationSource }, options.all ?? false)) as [number, string[]]
  return undone
}

/** Creates the database named in `databaseUrl` when it does not exist (connects to `postgres` to do it). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl)
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''))
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`database name "${name}" must be letters, digits and underscores`)
  url.pathname = '/postgres'
  const admin = knexFactory({ client: 'pg', connection: url.toString(), pool: { min: 0, max: 1 } })
  try {
    const exists = await admin.raw('select 1 from pg_database where datname = ?', [name])
    if (exists.rows.length === 0) await admin.raw(`create database "${name}"`)
  } finally {
    await admin.destroy()
  }
}

/** Postgres answers these while it cannot take work yet: starting up, shutting down, out of connection slots. */
const NOT_YET_SQLSTATES = new Set(['57P03', '57P01', '57P02', '53300'])
/** Network errors of a server that is not (yet) there: no listener, no address for the name yet, a dropped link. */
const NOT_YET_NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'])

function describeConnectError(error: unknown): { transient: boolean; text: string } {
  const e = error as { code?: string; message?: string }
  const text = e.code && !String(e.message).includes(e.code) ? `${e.code}: ${e.message}` : String(e.message ?? error)
  if (e.code && (NOT_YET_SQLSTATES.has(e.code) || NOT_YET_NETWORK.has(e.code))) return { transient: true, text }
  // node-postgres reports a connection closed during the handshake, or its own connect timeout, without a code.
  return { transient: /Connection terminated|timeout expired|ended unexpectedly/i.test(text), text }
}

export interface WaitForDatabaseOptions {
  /** Give up after this long (DATABASE_WAIT). */
  timeoutMs: number
  /** Pause between attempts. */
  intervalMs?: number
  /** Called before each pause, e.g. to log that Postgres is not up yet. */
  onRetry?: (info: { attempt: number; error: string; remainingMs: number }) => void
}

/**
 * Waits until the Postgres server of `databaseUrl` accepts a connection, trying again while it is not up yet
 * (refused, not resolvable, starting up) for at most `timeoutMs`. A server that is up but refuses the login, or a
 * database that does not exist yet, ends the wait at once: waiting would not change them. The error names the
 * host, port and user, never the password.
 */
export async function waitForDatabase(databaseUrl: string, options: WaitForDatabaseOptions): Promise<void> {
  const url = new URL(databaseUrl)
  const where = `${url.hostname}:${url.port || '5432'}`
  const deadline = Date.now() + options.timeoutMs
  const intervalMs = options.intervalMs ?? 1000
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now()
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: Math.max(1000, Math.min(5000, remaining)) })
    // A client whose connection fails may still emit 'error' later; it is reported through connect()'s rejection.
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('select 1')
      return
    } catch (error) {
      const { transient, text } = describeConnectError(error)
      // 3D000: the server is up and the database is missing; ensureDatabase creates it (or migrating says so).
      if ((error as { code?: string }).code === '3D000') return
      if (!transient) throw new Error(`Postgres at ${where} refused user "${decodeURIComponent(url.username)}": ${text}`, { cause: error })
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new Error(
          `Postgres at ${where} did not accept connections within ${Math.round(options.timeoutMs / 100) / 10} s (DATABASE_WAIT); last error: ${text}`,
          { cause: error },
        )
      }
      options.onRetry?.({ attempt, error: text, remainingMs: left })
      await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, left)))
    } finally {
      await client.end().catch(() => {})
    }
  }
}
