import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
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
  /** A single `pg_dump` file (older versions) or a backup set directory (see runBackupSet). */
  kind: 'dump' | 'set'
  takenAt: Date
  bytes: number
}

export function backupFileName(at: Date): string {
  return `flowpanel-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z')}.dump`
}

/** The time in the name of a single-file backup or of a backup set; undefined for other names. */
export function parseBackupTime(name: string): Date | undefined {
  const m = BACKUP_FILE_PATTERN.exec(name) ?? BACKUP_SET_PATTERN.exec(name)
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
    const stat = await fs.stat(file)
    if (stat.isDirectory()) {
      let bytes = 0
      for (const entry of await fs.readdir(file)) bytes += (await fs.stat(path.join(file, entry))).size
      out.push({ file, name, kind: 'set', takenAt, bytes })
    } else {
      out.push({ file, name, kind: 'dump', takenAt, bytes: stat.size })
    }
  }
  return out.sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime())
}

/** Deletes backups (files and sets) taken more than `keepDays` days before `now`; returns the deleted paths. */
export async function pruneBackups(dir: string, keepDays: number, now: Date = new Date()): Promise<string[]> {
  const cutoff = now.getTime() - keepDays * 86_400_000
  const pruned: string[] = []
  for (const b of await listBackups(dir)) {
    if (b.takenAt.getTime() < cutoff) {
      await fs.rm(b.file, { recursive: true, force: true })
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

/**
 * Backup sets: one directory `flowpanel-<UTC time>` holding a dump per database (`<name>.dump`), the uploaded
 * receipts (`uploads.tar.gz`), `manifest.json` and `SHA256SUMS`. The compose `backup` service
 * (backup/compose-loop.sh) and `backup run` write the same layout; `restoreBackupSet` reads either. A set is
 * written into `<name>.partial` and renamed when complete, so a directory with the plain name is whole.
 */
export const BACKUP_SET_PATTERN = /^flowpanel-(\d{8}T\d{6}Z)$/
export const BACKUP_SET_FORMAT = 'flowpanel-backup-set/1'

export interface BackupSetFile {
  file: string
  bytes: number
  sha256: string
}

export interface BackupSetManifest {
  format: typeof BACKUP_SET_FORMAT
  takenAt: string
  /** The database of `databaseUrl`; the others (Temporal's) live on the same server. */
  appDatabase: string
  databases: (BackupSetFile & { name: string })[]
  uploads: (BackupSetFile & { files: number }) | null
}

export function backupSetName(at: Date): string {
  return backupFileName(at).replace(/\.dump$/, '')
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function describeFile(file: string): Promise<BackupSetFile> {
  return { file: path.basename(file), bytes: (await fs.stat(file)).size, sha256: await sha256File(file) }
}

async function countFiles(dir: string): Promise<number> {
  let n = 0
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) if (entry.isFile()) n++
  return n
}

function urlWithDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl)
  url.pathname = `/${encodeURIComponent(database)}`
  return url.toString()
}

export interface RunBackupSetOptions {
  databaseUrl: string
  dir: string
  /** More databases of the same server to dump beside the app's (compose: temporal, temporal_visibility). */
  alsoDatabases?: string[]
  /** The uploaded receipts (UPLOAD_DIR); a directory that does not exist is an error, undefined leaves them out. */
  uploadsDir?: string
  keepDays?: number
  pgDump?: string
  now?: Date
  /** Attempts per part before the set is given up (default 3), and the pause between them. */
  attempts?: number
  retryDelayMs?: number
}

export interface RunBackupSetResult {
  dir: string
  manifest: BackupSetManifest
  bytes: number
  pruned: string[]
}

async function withAttempts<T>(what: string, attempts: number, delayMs: number, fn: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await fn()
    } catch (error) {
      if (n >= attempts) throw new BackupError(`${what} failed ${n} times: ${error instanceof Error ? error.message : String(error)}`)
      await new Promise((resolve) => setTimeout(resolve, delayMs))
    }
  }
}

/**
 * Writes one backup set into `dir`: a dump of the app database and of `alsoDatabases`, the uploads, the manifest.
 * Each part is tried `attempts` times; when one still fails nothing is left behind. Then prunes sets and single-file
 * backups older than `keepDays`.
 */
export async function runBackupSet(options: RunBackupSetOptions): Promise<RunBackupSetResult> {
  const keepDays = options.keepDays ?? DEFAULT_KEEP_DAYS
  if (!Number.isInteger(keepDays) || keepDays < 1) throw new BackupError(`keep days must be a whole number of days >= 1, got ${keepDays}`)
  const attempts = options.attempts ?? 3
  const delayMs = options.retryDelayMs ?? 30_000
  const now = options.now ?? new Date()
  const appDatabase = connectionFor(options.databaseUrl).database
  if (options.uploadsDir) {
    const stat = await fs.stat(options.uploadsDir).catch(() => undefined)
    if (!stat?.isDirectory()) throw new BackupError(`the uploads directory ${options.uploadsDir} does not exist`)
  }
  await fs.mkdir(options.dir, { recursive: true })
  const setDir = path.resolve(options.dir, backupSetName(now))
  const work = `${setDir}.partial`
  await fs.rm(work, { recursive: true, force: true })
  await fs.mkdir(work)
  try {
    const databases: BackupSetManifest['databases'] = []
    for (const name of [appDatabase, ...(options.alsoDatabases ?? [])]) {
      const file = path.join(work, `${name}.dump`)
      await withAttempts(`pg_dump of ${name}`, attempts, delayMs, async () => {
        await fs.rm(file, { force: true })
        const dumped = await runBackup({ databaseUrl: urlWithDatabase(options.databaseUrl, name), dir: work, keepDays: 1_000_000, pgDump: options.pgDump, now })
        await fs.rename(dumped.file, file)
      })
      databases.push({ name, ...(await describeFile(file)) })
    }
    let uploads: BackupSetManifest['uploads'] = null
    if (options.uploadsDir) {
      const file = path.join(work, 'uploads.tar.gz')
      const uploadsDir = options.uploadsDir
      await withAttempts(`archiving ${uploadsDir}`, attempts, delayMs, async () => {
        const result = await runTool('tar', ['-czf', file, '-C', uploadsDir, '.'], process.env)
        if (result.code !== 0) throw new Error(result.stderr.trim())
      })
      uploads = { ...(await describeFile(file)), files: await countFiles(uploadsDir) }
    }
    const manifest: BackupSetManifest = { format: BACKUP_SET_FORMAT, takenAt: now.toISOString(), appDatabase, databases, uploads }
    await fs.writeFile(path.join(work, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
    const sums = [...databases, ...(uploads ? [uploads] : [])].map((f) => `${f.sha256}  ${f.file}\n`).join('')
    await fs.writeFile(path.join(work, 'SHA256SUMS'), sums)
    await fs.rename(work, setDir)
    const bytes = [...databases, ...(uploads ? [uploads] : [])].reduce((sum, f) => sum + f.bytes, 0)
    return { dir: setDir, manifest, bytes, pruned: await pruneBackups(options.dir, keepDays, now) }
  } catch (error) {
    await fs.rm(work, { recursive: true, force: true })
    throw error
  }
}

/** Reads a set's manifest and checks every file it names against its size and SHA-256. */
export async function verifyBackupSet(dir: string): Promise<BackupSetManifest> {
  let manifest: BackupSetManifest
  try {
    manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as BackupSetManifest
  } catch (error) {
    throw new BackupError(`${dir} is not a backup set: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it has no manifest.json' : 'its manifest.json cannot be read'}`)
  }
  if (manifest.format !== BACKUP_SET_FORMAT) throw new BackupError(`${dir}/manifest.json has format ${String(manifest.format)}, expected ${BACKUP_SET_FORMAT}`)
  for (const entry of [...manifest.databases, ...(manifest.uploads ? [manifest.uploads] : [])]) {
    const file = path.join(dir, entry.file)
    const actual = await describeFile(file).catch(() => undefined)
    if (!actual) throw new BackupError(`${file} is missing from the backup set`)
    if (actual.bytes !== entry.bytes || actual.sha256 !== entry.sha256) throw new BackupError(`${file} does not match its checksum in manifest.json: the set is damaged`)
  }
  return manifest
}

export interface RestoreBackupSetOptions {
  dir: string
  /** Where the app database goes; the set's other databases go to the databases of the same names on this server. */
  databaseUrl: string
  /** Where the uploads go (emptied first). Required when the set has uploads. */
  uploadsDir?: string
  createDatabase?: boolean
  force?: boolean
  pgRestore?: string
}

/**
 * Restores a whole set: checks it, refuses before the first change when a target database has tables (unless
 * `force`), then restores every database (each in one transaction) and the uploads.
 */
export async function restoreBackupSet(options: RestoreBackupSetOptions): Promise<{ databases: { name: string; tables: number }[]; uploads: number }> {
  const manifest = await verifyBackupSet(options.dir)
  if (manifest.uploads && !options.uploadsDir) throw new BackupError('the set holds uploaded receipts: say where they go (--uploads-dir, or UPLOAD_DIR)')
  const targets = manifest.databases.map((d) => ({
    ...d,
    url: d.name === manifest.appDatabase ? options.databaseUrl : urlWithDatabase(options.databaseUrl, d.name),
  }))
  if (!options.force) {
    for (const target of targets) {
      const db = knexFactory({ client: 'pg', connection: target.url, pool: { min: 0, max: 1 } })
      try {
        const res = await db.raw(`select count(*)::int as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema')`)
        if (res.rows[0].n > 0) throw new BackupError(`database "${connectionFor(target.url).database}" already has ${res.rows[0].n} table(s); nothing was restored. Pass --force to replace them.`)
      } catch (error) {
        if (error instanceof BackupError) throw error
        // A database that does not exist yet is created (or refused) by restoreBackup.
      } finally {
        await db.destroy()
      }
    }
  }
  const databases: { name: string; tables: number }[] = []
  for (const target of targets) {
    const restored = await restoreBackup({ file: path.join(options.dir, target.file), databaseUrl: target.url, createDatabase: options.createDatabase, force: options.force, pgRestore: options.pgRestore })
    databases.push({ name: target.name, tables: restored.tables })
  }
  let uploads = 0
  if (manifest.uploads && options.uploadsDir) {
    await fs.mkdir(options.uploadsDir, { recursive: true })
    for (const entry of await fs.readdir(options.uploadsDir)) await fs.rm(path.join(options.uploadsDir, entry), { recursive: true, force: true })
    const result = await runTool('tar', ['-xzf', path.join(options.dir, manifest.uploads.file), '-C', options.uploadsDir], process.env)
    if (result.code !== 0) throw new BackupError(`extracting the uploads into ${options.uploadsDir} failed: ${result.stderr.trim()}`)
    uploads = await countFiles(options.uploadsDir)
  }
  return { databases, uploads }
}
