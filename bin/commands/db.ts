import { getEnv } from '#config/env.ts'
import { createDb, ensureDatabase, migrateLatest, migrateRollback, type Db } from '#db/knex.ts'
import { optionalFlag, UsageError, type Command, type Flags } from '../cli.ts'

/** The database URL without its password, for messages. */
export function describeDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl)
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`
  } catch {
    return '(unparseable URL)'
  }
}

/**
 * The database a command works on: `--database-url`, else DATABASE_URL from the validated configuration
 * (a bad configuration stops the CLI with the list of every problem).
 */
export function cliDatabaseUrl(flags: Flags, command: string): string {
  const fromFlag = optionalFlag(flags, 'database-url')
  if (fromFlag !== undefined) {
    try {
      new URL(fromFlag)
    } catch {
      throw new UsageError('--database-url must be a URL such as postgres://user@host:5432/flowpanel')
    }
    return fromFlag
  }
  const env = getEnv()
  if (!env.DATABASE_URL) {
    throw new UsageError(
      `DATABASE_URL is not set: \`${command}\` needs the database to work on. ` +
        'Set it (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/flowpanel) or pass --database-url.',
    )
  }
  return env.DATABASE_URL
}

/** Opens a small pool for one CLI command and always closes it. Connection failures name the database. */
export async function withCliDatabase<T>(flags: Flags, command: string, fn: (db: Db, url: string) => Promise<T>): Promise<T> {
  const url = cliDatabaseUrl(flags, command)
  const db = createDb(url, { pool: { min: 0, max: 2 } })
  try {
    return await fn(db, url)
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '3D000' || code === '28P01' || code === '28000') {
      throw new Error(`cannot use the database at ${describeDatabaseUrl(url)}: ${(error as Error).message}`, { cause: error })
    }
    throw error
  } finally {
    await db.destroy()
  }
}

const migrate: Command = {
  name: ['db', 'migrate'],
  usage: 'db migrate [--database-url URL]',
  summary: 'Create the database if needed and apply every pending migration',
  async run({ flags, out }) {
    const url = cliDatabaseUrl(flags, 'db migrate')
    try {
      await ensureDatabase(url)
    } catch (error) {
      // Managed servers often refuse connections to the `postgres` database; the migration then needs an existing database.
      out(`note: could not check or create the database itself (${(error as Error).message}); using it as it is`)
    }
    return withCliDatabase(flags, 'db migrate', async (db) => {
      const applied = await migrateLatest(db)
      if (applied.length === 0) out(`${describeDatabaseUrl(url)}: already up to date`)
      else out(`${describeDatabaseUrl(url)}: applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}`).join('\n')}`)
      return 0
    })
  },
}

const rollback: Command = {
  name: ['db', 'rollback'],
  usage: 'db rollback [--all] [--database-url URL]',
  summary: 'Undo the last batch of migrations (--all: every migration)',
  async run({ flags, out }) {
    return withCliDatabase(flags, 'db rollback', async (db, url) => {
      const undone = await migrateRollback(db, { all: flags.all === true })
      if (undone.length === 0) out(`${describeDatabaseUrl(url)}: nothing to roll back`)
      else out(`${describeDatabaseUrl(url)}: rolled back ${undone.length} migration(s):\n${undone.map((m) => `  ${m}`).join('\n')}`)
      return 0
    })
  },
}

export const commands: Command[] = [migrate, rollback]
