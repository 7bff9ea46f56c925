import path from 'node:path'
import { BackupError, DEFAULT_KEEP_DAYS, listBackups, restoreBackup, runBackup } from '../../backup/backup.ts'
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

const run: Command = {
  name: ['backup', 'run'],
  usage: 'backup run [--dir ./backups] [--keep-days 30] [--database-url URL]',
  summary: 'Write a compressed pg_dump (flowpanel-<UTC time>.dump) and delete backups older than --keep-days',
  async run({ flags, out }) {
    const dir = path.resolve(optionalFlag(flags, 'dir') ?? DEFAULT_DIR)
    const keepDays = keepDaysFlag(flags)
    const databaseUrl = resolveCliDatabaseUrl(flags)
    const result = await friendly(() => runBackup({ databaseUrl, dir, keepDays }))
    out(`backup written: ${result.file} (${mb(result.bytes)})`)
    for (const file of result.pruned) out(`pruned (older than ${keepDays} days): ${file}`)
    return 0
  },
}

const restore: Command = {
  name: ['backup', 'restore'],
  usage: 'backup restore <file> --database-url URL [--create-database] [--force]',
  summary: 'Restore a backup into a database (empty, or replaced with --force)',
  async run({ args, flags, out }) {
    const file = args[0]
    if (!file) throw new UsageError('say which backup file to restore')
    // The target is never taken from the environment: restoring is destructive, so it is always spelled out.
    const databaseUrl = optionalFlag(flags, 'database-url')
    if (!databaseUrl) throw new UsageError('--database-url is required: the database to restore into')
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
    for (const b of backups) out(`${b.takenAt.toISOString()}  ${mb(b.bytes).padStart(10)}  ${b.file}`)
    return 0
  },
}

export const commands: Command[] = [run, restore, list]
