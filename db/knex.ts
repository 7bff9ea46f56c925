import { readdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import knexFactory, { type Knex } from 'knex'
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

/**
 * Loads the TypeScript migrations with this module's own `import()`, so they go through whichever
 * loader runs the process (tsx for the CLI, vite for vitest). knex's default loader imports them
 * natively, which fails on `.ts` files under vitest. Names are the file names, as knex records them.
 */
export const migrationSource: Knex.MigrationSource<string> = {
  async getMigrations() {
    const files = await readdir(MIGRATIONS_DIR)
    return files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.test.ts')).sort()
  },
  getMigrationName(file) {
    return file
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
