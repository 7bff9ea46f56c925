import knexFactory from 'knex'
import { createDb, type Db } from '#db/knex.ts'
import { TEST_PG_URL } from '#tests/setup/database.ts'

/**
 * A brand-new, unmigrated database (the `fp_<label>_<pid>_<random>` name lets globalSetup drop it if
 * this process dies before cleaning up).
 */
export async function createEmptyDatabase(label: string): Promise<{ db: Db; url: string; name: string; drop: () => Promise<void> }> {
  const name = `fp_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const url = new URL(TEST_PG_URL)
  url.pathname = `/${name}`
  await withAdmin((admin) => admin.raw(`create database "${name}"`))
  const db = createDb(url.toString(), { pool: { max: 2 } })
  return {
    db,
    url: url.toString(),
    name,
    drop: async () => {
      await db.destroy()
      await dropDatabase(name)
    },
  }
}

/** A database name that does not exist yet, for code that is expected to create it. */
export function unusedDatabaseUrl(label: string): { url: string; name: string } {
  const name = `fp_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const url = new URL(TEST_PG_URL)
  url.pathname = `/${name}`
  return { url: url.toString(), name }
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((admin) => admin.raw(`drop database if exists "${name}" with (force)`))
}

export async function databaseExists(name: string): Promise<boolean> {
  return withAdmin(async (admin) => (await admin.raw('select 1 from pg_database where datname = ?', [name])).rows.length === 1)
}

async function withAdmin<T>(fn: (admin: ReturnType<typeof knexFactory>) => Promise<T>): Promise<T> {
  const admin = knexFactory({ client: 'pg', connection: TEST_PG_URL, pool: { min: 0, max: 1 } })
  try {
    return await fn(admin)
  } finally {
    await admin.destroy()
  }
}
