import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import knexFactory from 'knex'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backupFileName, listBackups, parseBackupTime, restoreBackup, runBackup, BACKUP_FILE_PATTERN } from '../../../backup/backup.ts'
import { createDb, type Db } from '#db/knex.ts'
import { checkLedger } from '#db/ledger.ts'
import { createTestDatabase, TEST_PG_URL } from '#tests/setup/database.ts'
import { seedReportData } from '../reports/seed.ts'

const run = promisify(execFile)
let source: { db: Db; url: string; drop: () => Promise<void> }
let dir: string
const scratch: string[] = []

function urlFor(name: string): string {
  const url = new URL(TEST_PG_URL)
  url.pathname = `/${name}`
  return url.toString()
}

function scratchName(label: string): string {
  const name = `fp_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  scratch.push(name)
  return name
}

async function withAdmin<T>(fn: (admin: ReturnType<typeof knexFactory>) => Promise<T>): Promise<T> {
  const admin = knexFactory({ client: 'pg', connection: TEST_PG_URL, pool: { min: 0, max: 1 } })
  try {
    return await fn(admin)
  } finally {
    await admin.destroy()
  }
}

/** Row count of every table in the public schema, by name. */
async function rowCounts(db: Db): Promise<Record<string, number>> {
  const tables = await db.raw(`select tablename from pg_tables where schemaname = 'public' order by tablename`)
  const out: Record<string, number> = {}
  for (const { tablename } of tables.rows as { tablename: string }[]) {
    const res = await db.raw(`select count(*)::int as n from "${tablename}"`)
    out[tablename] = res.rows[0].n
  }
  return out
}

beforeAll(async () => {
  source = await createTestDatabase('backup')
  await seedReportData(source.db)
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowpanel-backup-'))
})

afterAll(async () => {
  await source?.drop()
  await withAdmin(async (admin) => {
    for (const name of scratch) await admin.raw(`drop database if exists "${name}" with (force)`)
  })
  if (dir) await fs.rm(dir, { recursive: true, force: true })
})

describe('backups', () => {
  it('names backups by their UTC time and reads the time back', () => {
    const at = new Date('2026-03-05T04:07:09.123Z')
    expect(backupFileName(at)).toBe('flowpanel-20260305T040709Z.dump')
    expect(parseBackupTime('flowpanel-20260305T040709Z.dump')?.toISOString()).toBe('2026-03-05T04:07:09.000Z')
    expect(parseBackupTime('notes.txt')).toBeUndefined()
  })

  it('backs up a seeded database, keeps 30 days, and restores into a scratch database with the same rows', async () => {
    const now = new Date()
    // Older backups: one 31 days old (pruned), one 29 days old (kept), and an unrelated file (never touched).
    const old = path.join(dir, backupFileName(new Date(now.getTime() - 31 * 86_400_000)))
    const recent = path.join(dir, backupFileName(new Date(now.getTime() - 29 * 86_400_000)))
    const unrelated = path.join(dir, 'notes.txt')
    for (const f of [old, recent, unrelated]) await fs.writeFile(f, 'x')

    const result = await runBackup({ databaseUrl: source.url, dir, keepDays: 30, now })
    expect(path.basename(result.file)).toMatch(BACKUP_FILE_PATTERN)
    expect(result.bytes).toBeGreaterThan(1000)
    expect((await fs.readFile(result.file)).subarray(0, 5).toString('latin1')).toBe('PGDMP')
    expect(result.pruned).toEqual([old])
    await expect(fs.access(recent)).resolves.toBeUndefined()
    await expect(fs.access(unrelated)).resolves.toBeUndefined()
    expect((await listBackups(dir)).map((b) => b.file)).toEqual([recent, result.file])

    const targetName = scratchName('restore')
    const targetUrl = urlFor(targetName)
    const restored = await restoreBackup({ file: result.file, databaseUrl: targetUrl, createDatabase: true })
    expect(restored.tables).toBeGreaterThan(10)

    const target = createDb(targetUrl)
    try {
      const before = await rowCounts(source.db)
      const after = await rowCounts(target)
      expect(after).toEqual(before)
      expect(after.ledger_entries).toBeGreaterThan(10)
      expect(after.knex_migrations).toBeGreaterThan(0)
      expect((await checkLedger(target)).ok).toBe(true)
      // The append-only trigger came back with the schema.
      await expect(target.raw('delete from ledger_entries')).rejects.toThrow(/append-only/)
    } finally {
      await target.destroy()
    }
  })

  it('refuses to restore over a database that has tables, unless forced', async () => {
    const [backup] = (await listBackups(dir)).slice(-1)
    await expect(restoreBackup({ file: backup!.file, databaseUrl: source.url })).rejects.toThrow(/already has \d+ table\(s\).*--force/)
    const missing = urlFor(scratchName('missing'))
    await expect(restoreBackup({ file: backup!.file, databaseUrl: missing })).rejects.toThrow(/does not exist; create it or pass --create-database/)
    await expect(restoreBackup({ file: path.join(dir, 'notes.txt'), databaseUrl: missing })).rejects.toThrow(/not a pg_dump custom-format backup/)
  })

  it('explains a pg_dump older than the server instead of failing obscurely', async () => {
    const fake = path.join(dir, 'old-pg_dump')
    await fs.writeFile(fake, '#!/bin/sh\necho "pg_dump (PostgreSQL) 9.6.24"\n', { mode: 0o755 })
    await expect(runBackup({ databaseUrl: source.url, dir, pgDump: fake })).rejects.toThrow(
      /version 9 but the server runs PostgreSQL \d+; pg_dump must be at least as new as the server/,
    )
  })

  it('the CLI runs and restores a backup, and never prints the password', async () => {
    const withPassword = new URL(source.url)
    // Trust authentication ignores the password; it is here to prove it is not echoed.
    withPassword.password = 'hunter2secret'
    const cliDir = path.join(dir, 'cli')
    const env = { ...process.env, DATABASE_URL: withPassword.toString() }
    const made = await run('npx', ['tsx', 'bin/flowpanel.ts', 'backup', 'run', '--dir', cliDir], { env })
    expect(made.stdout).toMatch(/backup written: .*flowpanel-\d{8}T\d{6}Z\.dump/)
    const [file] = await listBackups(cliDir)

    const targetUrl = new URL(urlFor(scratchName('cli_restore')))
    targetUrl.password = 'hunter2secret'
    const restored = await run('npx', ['tsx', 'bin/flowpanel.ts', 'backup', 'restore', file!.file, '--database-url', targetUrl.toString(), '--create-database'], { env })
    expect(restored.stdout).toMatch(/restored .*: \d+ tables/)

    const refused: { code?: number; stdout: string; stderr: string } = await run(
      'npx',
      ['tsx', 'bin/flowpanel.ts', 'backup', 'restore', file!.file, '--database-url', targetUrl.toString()],
      { env },
    ).catch((e: { code: number; stdout: string; stderr: string }) => e)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/already has \d+ table\(s\)/)
    for (const text of [made.stdout, made.stderr, restored.stdout, restored.stderr, refused.stderr]) expect(text).not.toContain('hunter2secret')
  })

  it('the compose backup loop dumps once a day (Temporal databases too), prunes old dumps, and stops on SIGTERM', async () => {
    const loopDir = path.join(dir, 'loop')
    await fs.mkdir(loopDir)
    const old = path.join(loopDir, 'flowpanel-20200101T030000Z.dump')
    const oldTemporal = path.join(loopDir, 'temporal-20200101T030000Z.dump')
    const recent = path.join(loopDir, backupFileName(new Date(Date.now() - 2 * 86_400_000)))
    for (const f of [old, oldTemporal, recent]) await fs.writeFile(f, 'x')
    const past = new Date(Date.now() - 40 * 86_400_000)
    await fs.utimes(old, past, past)
    await fs.utimes(oldTemporal, past, past)
    const recentTime = new Date(Date.now() - 2 * 86_400_000)
    await fs.utimes(recent, recentTime, recentTime)

    // A second seeded database stands in for Temporal's.
    const extra = await createTestDatabase('backup_extra')
    const url = new URL(source.url)
    const child = spawn('sh', [path.resolve('backup/compose-loop.sh')], {
      env: {
        NODE_ENV: 'test',
        PATH: process.env.PATH,
        PGHOST: url.hostname,
        PGPORT: url.port || '5432',
        PGUSER: decodeURIComponent(url.username),
        PGDATABASE: url.pathname.slice(1),
        BACKUP_DIR: loopDir,
        BACKUP_HOUR: '0',
        BACKUP_KEEP_DAYS: '30',
        BACKUP_CHECK_SECONDS: '1',
        BACKUP_EXTRA_DATABASES: extra.name,
      } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (out += c.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const deadline = Date.now() + 30_000
      while (!/pruned/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
      // Several more turns of the loop: still one dump per database for today.
      await new Promise((r) => setTimeout(r, 3500))
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
    await extra.drop()

    const names = (await fs.readdir(loopDir)).sort()
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, '')
    expect(names.filter((n) => n.startsWith(`flowpanel-${today}`))).toHaveLength(1)
    expect(names.filter((n) => n.startsWith(`${extra.name}-${today}`))).toHaveLength(1)
    expect(names).toContain(path.basename(recent))
    expect(names).not.toContain(path.basename(old))
    expect(names).not.toContain(path.basename(oldTemporal))
    expect(names.some((n) => n.endsWith('.partial'))).toBe(false)
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string })
    expect(lines.some((l) => l.level === 'error')).toBe(false)
    expect(lines.at(-1)!.msg).toBe('stopping')

    // The loop's dump restores like the CLI's.
    const target = urlFor(scratchName('loop_restore'))
    const dump = path.join(loopDir, names.find((n) => n.startsWith(`flowpanel-${today}`))!)
    expect((await restoreBackup({ file: dump, databaseUrl: target, createDatabase: true })).tables).toBeGreaterThan(10)
  })
})
