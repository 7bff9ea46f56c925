import { spawn } from 'node:child_process'
import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import knexFactory from 'knex'

/**
 * Postgres backups with the server's own tools: `pg_dump --format=custom` (compressed) into files named
 * `flowpanel-YYYYMMDDTHHMMSSZ.dump`, pruning by the time in the name, and `pg_restore` back. The
 * compose `backup` service (backup/compose-loop.sh) writes the same names and format.
 *
 * Passwords never reach a command line or a log: the child gets the URL without its password and the
 * password through PGPASSWORD.
 */

export const BACKUP_FILE_PATTERN = /^flowpanel-(\d{8}T\d{6}Z)\.dump$/
export const DEFAULT_KEEP_DAYS = 30

export class BackupError extends Error {}

export interface BackupFile {
  file: string
  name: string
  takenAt: Date
  bytes: number
}

export function backupFileName(at: Date): string {
  return `flowpanel-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}.dump`
}

export function parseBackupTime(name: string): Date | undefined {
  const m = BACKUP_FILE_PATTERN.exec(name)
  if (!m) return undefined
  const s = m[1]!
  return new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`)
}

/** The URL with its password replaced, for messages. */
export function redactUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl)
    if (url.password) url.password = '***'
    return url.toString()
  } catch {
    return '(unparseable database URL)'
  }
}

/** Splits a postgres URL into the part that may be shown (no password) and the password, for PGPASSWORD. */
function connectionFor(databaseUrl: string): { url: string; env: NodeJS.ProcessEnv; database: string } {
  let url: URL
  try {
    url = new URL(databaseUrl)
  } catch {
    throw new BackupError('the database URL is not a URL (expected postgres://user:password@host:port/database)')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new BackupError(`the database URL must start with postgres://, not ${url.protocol}//`)
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''))
  if (!database) throw new BackupError(`the database URL ${redactUrl(databaseUrl)} names no database`)
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.PGPASSWORD
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password)
  url.password = ''
  return { url: url.toString(), env, database }
}

interface RunResult {
  code: number
  stdout: string
  stderr: string
}

function runTool(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(new BackupError(`${command} was not found: install the PostgreSQL client tools (apt-get install postgresql-client) or set ${command === 'pg_dump' || command.endsWith('/pg_dump') ? 'PG_DUMP_PATH' : 'PG_RESTORE_PATH'}`))
      } else reject(error)
    })
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))
  })
}

/** Major version of a client tool (`pg_dump (PostgreSQL) 15.20` → 15). */
export async function toolMajorVersion(command: string): Promise<number> {
  const result = await runTool(command, ['--version'], process.env)
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(result.stdout)
  if (result.code !== 0 || !m) throw new BackupError(`could not read the version of ${command}: ${result.stderr.trim() || result.stdout.trim()}`)
  return Number(m[1])
}

export async function serverMajorVersion(databaseUrl: string): Promise<number> {
  const db = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } })
  try {
    const res = await db.raw('show server_version_num')
    return Math.floor(Number(res.rows[0].server_version_num) / 10_000)
  } catch (error) {
    throw new BackupError(`cannot connect to ${redactUrl(databaseUrl)}: ${error instanceof Error ? error.message : String(error)}`)
  } finally {
    await db.destroy()
  }
}

export interface RunBackupOptions {
  databaseUrl: string
  dir: string
  keepDays?: number
  pgDump?: string
  now?: Date
}

export interface RunBackupResult {
  file: string
  bytes: number
  pruned: string[]
}

/**
 * Dumps the database to `<dir>/flowpanel-<UTC time>.dump`, then deletes backups in `dir` older than
 * `keepDays` (by the time in their names; other files are never touched). pg_dump refuses servers newer
 * than itself, so the versions are compared first and a mismatch is explained.
 */
export async function runBackup(options: RunBackupOptions): Promise<RunBackupResult> {
  const keepDays = options.keepDays ?? DEFAULT_KEEP_DAYS
  if (!Number.isInteger(keepDays) || keepDays < 1) throw new BackupError(`keep days must be a whole number of days >= 1, got ${keepDays}`)
  const pgDump = options.pgDump ?? process.env.PG_DUMP_PATH ?? 'pg_dump'
  const conn = connectionFor(options.databaseUrl)
  const [client, server] = await Promise.all([toolMajorVersion(pgDump), serverMajorVersion(options.databaseUrl)])
  if (client < server) {
    throw new BackupError(
      `${pgDump} is version ${client} but the server runs PostgreSQL ${server}; pg_dump must be at least as new as the server. ` +
        `Install postgresql-client-${server} and set PG_DUMP_PATH to its pg_dump (e.g. /usr/lib/postgresql/${server}/bin/pg_dump).`,
    )
  }
  await fs.mkdir(options.dir, { recursive: true })
  const now = options.now ?? new Date()
  const file = path.resolve(options.dir, backupFileName(now))
  const partial = `${file}.partial`
  const result = await runTool(pgDump, ['--format=custom', '--compress=6', '--no-owner', `--file=${partial}`, `--dbname=${conn.url}`], conn.env)
  if (result.code !== 0) {
    await fs.rm(partial, { force: true })
    throw new BackupError(`pg_dump of ${redactUrl(options.databaseUrl)} failed: ${result.stderr.trim()}`)
  }
  await fs.rename(partial, file)
  const { size } = await fs.stat(file)
  const pruned = await pruneBackups(options.dir, keepDays, now)
  return { file, bytes: size, pruned }
}

export async function listBackups(dir: string): Promise<BackupFile[]> {
  let names: string[]
  try {
    names = await fs.readdir(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const out: BackupFile[] = []
  for (const name of names) {
    const takenAt = parseBackupTime(name)
    if (!takenAt) continue
    const file = path.join(dir, name)
    out.push({ file, name, takenAt, bytes: (await fs.stat(file)).size })
  }
  return out.sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime())
}

/** Deletes backups taken more than `keepDays` days before `now`; returns the deleted paths. */
export async function pruneBackups(dir: string, keepDays: number, now: Date = new Date()): Promise<string[]> {
  const cutoff = now.getTime() - keepDays * 86_400_000
  const pruned: string[] = []
  for (const b of await listBackups(dir)) {
    if (b.takenAt.getTime() < cutoff) {
      await fs.rm(b.file, { force: true })
      pruned.push(b.file)
    }
  }
  return pruned
}

async function assertCustomFormat(file: string): Promise<void> {
  const head = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    createReadStream(file, { start: 0, end: 4 })
      .on('data', (c) => chunks.push(c as Buffer))
      .on('end', () => resolve(Buffer.concat(chunks)))
      .on('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'ENOENT' ? new BackupError(`backup file ${file} does not exist`) : error),
      )
  })
  if (head.toString('latin1') !== 'PGDMP') throw new BackupError(`${file} is not a pg_dump custom-format backup (it does not start with PGDMP)`)
}

export interface RestoreOptions {
  file: string
  databaseUrl: string
  /** Create the target database when it does not exist. */
  createDatabase?: boolean
  /** Restore over a database that already has tables (they are dropped and recreated). */
  force?: boolean
  pgRestore?: string
}

/**
 * Restores a backup into the database of `databaseUrl` in one transaction. Refuses a target that already
 * has tables unless `force` is set, so a typo in the URL cannot overwrite a live database.
 */
export async function restoreBackup(options: RestoreOptions): Promise<{ tables: number }> {
  const file = path.resolve(options.file)
  await assertCustomFormat(file)
  const conn = connectionFor(options.databaseUrl)
  const pgRestore = options.pgRestore ?? process.env.PG_RESTORE_PATH ?? 'pg_restore'

  const adminUrl = new URL(options.databaseUrl)
  adminUrl.pathname = '/postgres'
  const admin = knexFactory({ client: 'pg', connection: adminUrl.toString(), pool: { min: 0, max: 1 } })
  try {
    const exists = await admin.raw('select 1 from pg_database where datname = ?', [conn.database])
    if (exists.rows.length === 0) {
      if (!options.createDatabase) throw new BackupError(`database "${conn.database}" does not exist; create it or pass --create-database`)
      if (!/^[A-Za-z0-9_]+$/.test(conn.database)) throw new BackupError(`database name "${conn.database}" must be letters, digits and underscores`)
      await admin.raw(`create database "${conn.database}"`)
    }
  } catch (error) {
    if (error instanceof BackupError) throw error
    throw new BackupError(`cannot connect to ${redactUrl(adminUrl.toString())}: ${error instanceof Error ? error.message : String(error)}`)
  } finally {
    await admin.destroy()
  }

  const target = knexFactory({ client: 'pg', connection: options.databaseUrl, pool: { min: 0, max: 1 } })
  let existing: number
  try {
    const res = await target.raw(`select count(*)::int as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema')`)
    existing = res.rows[0].n
  } finally {
    await target.destroy()
  }
  if (existing > 0 && !options.force) {
    throw new BackupError(
      `database "${conn.database}" already has ${existing} table(s); restoring would replace them. Restore into an empty database, or pass --force to drop and replace them.`,
    )
  }

  const args = ['--no-owner', '--exit-on-error', '--single-transaction', `--dbname=${conn.url}`]
  if (existing > 0) args.push('--clean', '--if-exists')
  const result = await runTool(pgRestore, [...args, file], conn.env)
  if (result.code !== 0) throw new BackupError(`pg_restore into ${redactUrl(options.databaseUrl)} failed: ${result.stderr.trim()}`)

  const check = knexFactory({ client: 'pg', connection: options.databaseUrl, pool: { min: 0, max: 1 } })
  try {
    const res = await check.raw(`select count(*)::int as n from pg_tables where schemaname = 'public'`)
    return { tables: res.rows[0].n }
  } finally {
    await check.destroy()
  }
}
