import knexFactory from 'knex'
import { createDb, migrateLatest, type Db } from '#db/knex.ts'
import { SHARED } from './shared.ts'

/** Base URL of the Postgres server tests use; each run and each vitest worker gets its own database on it. */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

function urlFor(name: string): string {
  const url = new URL(TEST_PG_URL)
  url.pathname = `/${name}`
  return url.toString()
}

async function withAdmin<T>(fn: (admin: ReturnType<typeof knexFactory>) => Promise<T>): Promise<T> {
  const admin = knexFactory({ client: 'pg', connection: TEST_PG_URL, pool: { min: 0, max: 1 } })
  try {
    return await fn(admin)
  } finally {
    await admin.destroy()
  }
}

/**
 * Creates a fresh, migrated database for one test file and returns it with a cleanup function.
 * It is cloned from a migrated template (made once per run by the global setup), much faster than migrating each time.
 */
export async function createTestDatabase(label = 'test'): Promise<{ db: Db; url: string; name: string; drop: () => Promise<void> }> {
  const template = await ensureTemplate()
  const name = `fp_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  await withAdmin((admin) => admin.raw(`create database "${name}" template "${template}"`))
  const url = urlFor(name)
  const db = createDb(url)
  return {
    db,
    url,
    name,
    drop: async () => {
      await db.destroy()
      await dropDatabase(name)
    },
  }
}

let templatePromise: Promise<string> | undefined

/** The run's migrated template (made once by the global setup), or one made by this process. */
function ensureTemplate(): Promise<string> {
  templatePromise ??= process.env[SHARED.templateDatabase] ? Promise.resolve(process.env[SHARED.templateDatabase]!) : createTemplateDatabase()
  return templatePromise
}

/** Creates and migrates a template database; `createTestDatabase` clones it. */
export async function createTemplateDatabase(): Promise<string> {
  const name = `fp_template_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  await withAdmin((admin) => admin.raw(`create database "${name}"`))
  const db = createDb(urlFor(name), { pool: { max: 1 } })
  try {
    await migrateLatest(db)
  } finally {
    await db.destroy()
  }
  return name
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((admin) => admin.raw(`drop database if exists "${name}" with (force)`))
}

/** Drops test databases left behind by crashed runs (older than one hour). Called from globalSetup. */
export async function dropStaleTestDatabases(): Promise<void> {
  await withAdmin(async (admin) => {
    const rows = await admin.raw(
      `select datname from pg_database where datname like 'fp\\_%' and datistemplate = false`,
    )
    for (const row of rows.rows as { datname: string }[]) {
      const pid = Number(row.datname.split('_').at(-2))
      let alive = false
      try {
        if (Number.isFinite(pid)) {
          process.kill(pid, 0)
          alive = true
        }
      } catch {
        alive = false
      }
      if (!alive) await admin.raw(`drop database if exists "${row.datname}" with (force)`)
    }
  })
}
