import fs from 'node:fs/promises'
import path from 'node:path'
import { BackupError, DEFAULT_KEEP_DAYS, listBackups, restoreBackup, restoreBackupSet, runBackupSet } from '../../backup/backup.ts'
import { optionalFlag, UsageError, type Command } from '../cli.ts'
import { resolveCliDatabaseUrl } from '../start/data-dir.ts'

const DEFAULT_DIR = process.env.BACKUP_DIR ?? './backups'

function keepDaysFlag(flags: Record<string, string | boolean>): number {
  const text = optionalFlag(flags, 'keep-days') ?? process.env.BACKUP_KEEP_DAYS ?? String(DEFAULT_KEEP_DAYS)
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--keep-days must be a whole number of days >= 1, got "${text}"`)
  return n
}

/** BackupErrors are the operator's to fix: print them without a stack. */
async function friendly<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (error instanceof BackupError) throw new Error(error.message)
    throw error
  }
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

/** The uploads directory: --uploads-dir, else UPLOAD_DIR, else the app's default when it exists. */
async function uploadsDirFlag(flags: Record<string, string | boolean>): Promise<string | undefined> {
  if (flags['no-uploads'] === true) return undefined
  const given = optionalFlag(flags, 'uploads-dir') ?? process.env.UPLOAD_DIR
  if (given) return path.resolve(given)
  const fallback = path.resolve('./data/uploads')
  return (await fs.stat(fallback).catch(() => undefined))?.isDirectory() ? fallback : undefined
}

const run: Command = {
  name: ['backup', 'run'],
  usage: 'backup run [--dir ./backups] [--keep-days 30] [--database-url URL] [--also-databases a,b] [--uploads-dir DIR | --no-uploads]',
  summary: 'Write a backup set (flowpanel-<UTC time>/: database dumps, uploads, manifest) and delete backups older than --keep-days',
  async run({ flags, out }) {
    const dir = path.resolve(optionalFlag(flags, 'dir') ?? DEFAULT_DIR)
    const keepDays = keepDaysFlag(flags)
    const databaseUrl = resolveCliDatabaseUrl(flags)
    const alsoDatabases = (optionalFlag(flags, 'also-databases') ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    const uploadsDir = await uploadsDirFlag(flags)
    const result = await friendly(() => runBackupSet({ databaseUrl, dir, keepDays, alsoDatabases, uploadsDir }))
    out(`backup written: ${result.dir} (${mb(result.bytes)})`)
    for (const d of result.manifest.databases) out(`  ${d.file}  ${mb(d.bytes)}`)
    out(result.manifest.uploads ? `  ${result.manifest.uploads.file}  ${mb(result.manifest.uploads.bytes)}, ${result.manifest.uploads.files} file(s) from ${uploadsDir}` : '  no uploads directory: receipts not included')
    for (const file of result.pruned) out(`pruned (older than ${keepDays} days): ${file}`)
    return 0
  },
}

const restore: Command = {
  name: ['backup', 'restore'],
  usage: 'backup restore <set directory | file> --database-url URL [--uploads-dir DIR] [--create-database] [--force]',
  summary: 'Restore a backup set (every database and the uploads) or a single dump (empty targets, or replaced with --force)',
  async run({ args, flags, out }) {
    const file = args[0]
    if (!file) throw new UsageError('say which backup set or file to restore')
    // The target is never taken from the environment: restoring is destructive, so it is always spelled out.
    const databaseUrl = optionalFlag(flags, 'database-url')
    if (!databaseUrl) throw new UsageError('--database-url is required: the database to restore into')
    if ((await fs.stat(file).catch(() => undefined))?.isDirectory()) {
      const uploadsDir = optionalFlag(flags, 'uploads-dir') ?? process.env.UPLOAD_DIR
      const result = await friendly(() =>
        restoreBackupSet({ dir: file, databaseUrl, uploadsDir: uploadsDir && path.resolve(uploadsDir), createDatabase: flags['create-database'] === true, force: flags.force === true }),
      )
      for (const d of result.databases) out(`restored database ${d.name}: ${d.tables} tables`)
      if (uploadsDir) out(`restored ${result.uploads} uploaded file(s) into ${path.resolve(uploadsDir)}`)
      out(`restored ${path.resolve(file)}`)
      return 0
    }
    const result = await friendly(() =>
      restoreBackup({ file, databaseUrl, createDatabase: flags['create-database'] === true, force: flags.force === true }),
    )
    out(`restored ${path.resolve(file)}: ${result.tables} tables`)
    return 0
  },
}

const list: Command = {
  name: ['backup', 'list'],
  usage: 'backup list [--dir ./backups]',
  summary: 'List backups, oldest first',
  async run({ flags, out }) {
    const dir = path.resolve(optionalFlag(flags, 'dir') ?? DEFAULT_DIR)
    const backups = await listBackups(dir)
    if (backups.length === 0) out(`no backups in ${dir}`)
    for (const b of backups) out(`${b.takenAt.toISOString()}  ${mb(b.bytes).padStart(10)}  ${b.kind === 'set' ? 'set ' : 'dump'}  ${b.file}`)
    return 0
  },
}

export const commands: Command[] = [run, restore, list]
