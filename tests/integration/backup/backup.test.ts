import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import knexFactory from 'knex'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  backupFileName,
  backupSetName,
  listBackups,
  parseBackupTime,
  restoreBackup,
  restoreBackupSet,
  runBackup,
  verifyBackupSet,
  BACKUP_FILE_PATTERN,
} from '../../../backup/backup.ts'
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

  it('the CLI runs and restores a backup set with the uploads, and never prints the password', async () => {
    const withPassword = new URL(source.url)
    // Trust authentication ignores the password; it is here to prove it is not echoed.
    withPassword.password = 'hunter2secret'
    const cliDir = path.join(dir, 'cli')
    const uploads = path.join(dir, 'cli-uploads')
    await fs.mkdir(path.join(uploads, 'receipts'), { recursive: true })
    await fs.writeFile(path.join(uploads, 'receipts', 'r1.jpg'), 'receipt one')
    const env = { ...process.env, DATABASE_URL: withPassword.toString() }
    const made = await run('npx', ['tsx', 'bin/flowpanel.ts', 'backup', 'run', '--dir', cliDir, '--uploads-dir', uploads], { env })
    expect(made.stdout).toMatch(/backup written: .*flowpanel-\d{8}T\d{6}Z \(/)
    expect(made.stdout).toMatch(/uploads\.tar\.gz .* 1 file\(s\)/)
    const [file] = await listBackups(cliDir)
    expect(file!.kind).toBe('set')

    const targetUrl = new URL(urlFor(scratchName('cli_restore')))
    targetUrl.password = 'hunter2secret'
    const restoredUploads = path.join(dir, 'cli-restored-uploads')
    const restored = await run(
      'npx',
      ['tsx', 'bin/flowpanel.ts', 'backup', 'restore', file!.file, '--database-url', targetUrl.toString(), '--uploads-dir', restoredUploads, '--create-database'],
      { env },
    )
    expect(restored.stdout).toMatch(/restored database .*: \d+ tables/)
    expect(restored.stdout).toMatch(/restored 1 uploaded file\(s\)/)
    expect(await fs.readFile(path.join(restoredUploads, 'receipts', 'r1.jpg'), 'utf8')).toBe('receipt one')

    const refused: { code?: number; stdout: string; stderr: string } = await run(
      'npx',
      ['tsx', 'bin/flowpanel.ts', 'backup', 'restore', file!.file, '--database-url', targetUrl.toString(), '--uploads-dir', restoredUploads],
      { env },
    ).catch((e: { code: number; stdout: string; stderr: string }) => e)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/already has \d+ table\(s\)/)
    for (const text of [made.stdout, made.stderr, restored.stdout, restored.stderr, refused.stderr]) expect(text).not.toContain('hunter2secret')
  })

  describe('the compose backup service (backup/compose-loop.sh, compose-restore.sh)', () => {
    /** Runs a script of backup/ with only what the compose service would set, plus the connection to the test server. */
    function script(name: string, args: string[], env: Record<string, string>, extraPath?: string) {
      const url = new URL(source.url)
      const child = spawn('sh', [path.resolve('backup', name), ...args], {
        env: {
          PATH: extraPath ? `${extraPath}:${process.env.PATH}` : process.env.PATH,
          PGHOST: url.hostname,
          PGPORT: url.port || '5432',
          PGUSER: decodeURIComponent(url.username),
          NODE_ENV: 'test',
          ...env,
        } as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      child.stdout.on('data', (c: Buffer) => (out += c.toString()))
      child.stderr.on('data', (c: Buffer) => (out += c.toString()))
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      return { child, exited, output: () => out }
    }

    async function uploadsWith(files: Record<string, string>): Promise<string> {
      const uploads = await fs.mkdtemp(path.join(dir, 'uploads-'))
      for (const [name, text] of Object.entries(files)) {
        await fs.mkdir(path.dirname(path.join(uploads, name)), { recursive: true })
        await fs.writeFile(path.join(uploads, name), text)
      }
      return uploads
    }

    it('writes one complete set a day (app database, Temporal databases, uploads, manifest), prunes old ones, stops on SIGTERM', async () => {
      const loopDir = path.join(dir, 'loop')
      await fs.mkdir(loopDir)
      // Older backups: a set and single-file dumps of older versions, 40 days old (pruned); a set 2 days old (kept).
      const oldSet = path.join(loopDir, 'flowpanel-20200101T030000Z')
      const old = path.join(loopDir, 'flowpanel-20200101T030000Z.dump')
      const oldTemporal = path.join(loopDir, 'temporal-20200101T030000Z.dump')
      const recentSet = path.join(loopDir, backupSetName(new Date(Date.now() - 2 * 86_400_000)))
      await fs.mkdir(oldSet)
      await fs.mkdir(recentSet)
      for (const f of [old, oldTemporal]) await fs.writeFile(f, 'x')
      const past = new Date(Date.now() - 40 * 86_400_000)
      for (const f of [oldSet, old, oldTemporal]) await fs.utimes(f, past, past)
      const recentTime = new Date(Date.now() - 2 * 86_400_000)
      await fs.utimes(recentSet, recentTime, recentTime)

      // A second seeded database stands in for Temporal's.
      const extra = await createTestDatabase('backup_extra')
      const uploads = await uploadsWith({ 'receipts/2026/a.jpg': 'receipt a', 'b.png': 'receipt b' })
      const loop = script('compose-loop.sh', [], {
        BACKUP_DIR: loopDir,
        BACKUP_HOUR: '0',
        BACKUP_KEEP_DAYS: '30',
        BACKUP_CHECK_SECONDS: '1',
        BACKUP_DATABASES: `${new URL(source.url).pathname.slice(1)} ${extra.name}`,
        BACKUP_UPLOADS_DIR: uploads,
      })
      try {
        const deadline = Date.now() + 30_000
        while (!/pruned/.test(loop.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
        // Several more turns of the loop: still one set for today.
        await new Promise((r) => setTimeout(r, 3500))
      } finally {
        loop.child.kill('SIGTERM')
      }
      expect(await loop.exited).toBe(0)
      await extra.drop()

      const names = (await fs.readdir(loopDir)).sort()
      const today = new Date().toISOString().slice(0, 10).replace(/-/g, '')
      const todays = names.filter((n) => n.startsWith(`flowpanel-${today}`))
      expect(todays).toHaveLength(1)
      expect(names).toContain(path.basename(recentSet))
      for (const gone of [oldSet, old, oldTemporal]) expect(names).not.toContain(path.basename(gone))
      expect(names.some((n) => n.endsWith('.partial'))).toBe(false)
      const lines = loop.output().trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string })
      expect(lines.some((l) => l.level === 'error')).toBe(false)
      expect(lines.at(-1)!.msg).toBe('stopping')

      const setDir = path.join(loopDir, todays[0]!)
      const manifest = await verifyBackupSet(setDir)
      expect(manifest.appDatabase).toBe(new URL(source.url).pathname.slice(1))
      expect(manifest.databases.map((d) => d.name)).toEqual([manifest.appDatabase, extra.name])
      expect(manifest.uploads).toMatchObject({ file: 'uploads.tar.gz', files: 2 })
      // The listing shows the set with its time.
      expect((await listBackups(loopDir)).find((b) => b.file === setDir)).toMatchObject({ kind: 'set' })

      // The CLI restores the loop's set: the app database into a scratch one, the others by name, the uploads.
      const target = urlFor(scratchName('loop_restore'))
      scratch.push(extra.name)
      const restoredUploads = path.join(dir, 'loop-restored-uploads')
      const restored = await restoreBackupSet({ dir: setDir, databaseUrl: target, uploadsDir: restoredUploads, createDatabase: true })
      expect(restored.databases.map((d) => d.name)).toEqual([manifest.appDatabase, extra.name])
      expect(restored.databases.every((d) => d.tables > 10)).toBe(true)
      expect(restored.uploads).toBe(2)
      expect(await fs.readFile(path.join(restoredUploads, 'receipts/2026/a.jpg'), 'utf8')).toBe('receipt a')
      const back = createDb(target)
      try {
        expect(await rowCounts(back)).toEqual(await rowCounts(source.db))
      } finally {
        await back.destroy()
      }
      // A second restore finds the databases full and changes nothing.
      await expect(restoreBackupSet({ dir: setDir, databaseUrl: target, uploadsDir: restoredUploads })).rejects.toThrow(/already has \d+ table\(s\); nothing was restored/)
    })

    it('tries a failing dump again, and leaves no set behind when it keeps failing', async () => {
      const realPgDump = (await run('sh', ['-c', 'command -v pg_dump'])).stdout.trim()
      const bin = await fs.mkdtemp(path.join(dir, 'bin-'))
      // pg_dump fails on its first call only, as when Postgres restarts in the middle of the night.
      await fs.writeFile(
        path.join(bin, 'pg_dump'),
        `#!/bin/sh\nif [ ! -f "${bin}/failed-once" ]; then touch "${bin}/failed-once"; echo "server closed the connection" >&2; exit 1; fi\nexec "${realPgDump}" "$@"\n`,
        { mode: 0o755 },
      )
      const onceDir = path.join(dir, 'once')
      const database = new URL(source.url).pathname.slice(1)
      const first = script('compose-loop.sh', [], { BACKUP_DIR: onceDir, BACKUP_ONCE: '1', BACKUP_DATABASES: database, BACKUP_RETRY_SECONDS: '0' }, bin)
      expect(await first.exited).toBe(0)
      expect(first.output()).toMatch(/pg_dump of \S+ failed \(attempt 1 of 3\); trying again/)
      const [set] = await fs.readdir(onceDir)
      expect((await verifyBackupSet(path.join(onceDir, set!))).databases.map((d) => d.name)).toEqual([database])

      const failingDir = path.join(dir, 'failing')
      const failing = script('compose-loop.sh', [], { BACKUP_DIR: failingDir, BACKUP_ONCE: '1', BACKUP_DATABASES: `${database} fp_no_such_database`, BACKUP_RETRY_SECONDS: '0' })
      expect(await failing.exited).toBe(1)
      expect(failing.output()).toMatch(/pg_dump of fp_no_such_database failed 3 times; giving up on this set/)
      expect(await fs.readdir(failingDir)).toEqual([])
    })

    it('restores a set with the compose restore script: checksums first, refuses full databases unless --force, uploads replaced', async () => {
      const db = await createTestDatabase('backup_restore_sh')
      scratch.push(db.name)
      await seedReportData(db.db)
      await db.db.destroy()
      const uploads = await uploadsWith({ 'receipts/r.jpg': 'the receipt' })
      const setsDir = path.join(dir, 'restore-sh')
      expect(await script('compose-loop.sh', [], { BACKUP_DIR: setsDir, BACKUP_ONCE: '1', BACKUP_DATABASES: db.name, BACKUP_UPLOADS_DIR: uploads }).exited).toBe(0)
      const [name] = await fs.readdir(setsDir)
      const setDir = path.join(setsDir, name!)

      // Lose data after the backup: rows, and the receipt replaced by something else.
      const live = createDb(urlFor(db.name))
      const before = await rowCounts(live)
      const usernames = async () => (await live('users').orderBy('id').pluck('username')) as string[]
      const namesBefore = await usernames()
      expect(namesBefore.length).toBeGreaterThan(0)
      await live.raw(`update users set username = username || '-changed'`)
      await fs.rm(path.join(uploads, 'receipts'), { recursive: true })
      await fs.writeFile(path.join(uploads, 'stray.txt'), 'not in the backup')

      const refused = script('compose-restore.sh', [setDir], { UPLOADS_DIR: uploads })
      expect(await refused.exited).toBe(1)
      expect(refused.output()).toMatch(/already has \d+ table\(s\); stop the services and pass --force/)

      const restored = script('compose-restore.sh', [setDir, '--force'], { UPLOADS_DIR: uploads })
      expect(await restored.exited).toBe(0)
      expect(restored.output()).toMatch(/restored 1 uploaded file\(s\)/)
      try {
        expect(await rowCounts(live)).toEqual(before)
        expect(await usernames()).toEqual(namesBefore)
      } finally {
        await live.destroy()
      }
      expect(await fs.readFile(path.join(uploads, 'receipts/r.jpg'), 'utf8')).toBe('the receipt')
      await expect(fs.access(path.join(uploads, 'stray.txt'))).rejects.toThrow()

      // A damaged set is refused before anything changes.
      await fs.appendFile(path.join(setDir, 'uploads.tar.gz'), 'x')
      const damaged = script('compose-restore.sh', [setDir, '--force'], { UPLOADS_DIR: uploads })
      expect(await damaged.exited).toBe(1)
      expect(damaged.output()).toMatch(/do not match their checksums; nothing was restored/)
      await expect(verifyBackupSet(setDir)).rejects.toThrow(/does not match its checksum/)
    })
  })
})
