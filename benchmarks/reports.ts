/**
 * Peak memory and time of a 100,000-row ledger export.
 *
 *   npx tsx benchmarks/reports.ts [--rows 100000] [--locale fa|en]
 *
 * Seeds a scratch database (on TEST_DATABASE_URL's server, default the local Postgres) with consistent
 * ledger entries spread over 30 days, then runs the export in a fresh child process so its peak RSS
 * (`process.resourceUsage().maxRSS`) measures the export alone, not the seeding. Exits 1 when the peak
 * is 300 MB or more.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgv } from '../bin/cli.ts'
import { createDb } from '#db/knex.ts'
import { writeReport } from '#activities/reports/workbook.ts'
import { wallClock } from '#activities/reports/calendar.ts'
import { createTestDatabase } from '#tests/setup/database.ts'

const LIMIT_MB = 300
const TZ = 'Asia/Tehran'
const { flags } = parseArgv(process.argv.slice(2))

interface ExportFigures {
  rows: number
  seconds: number
  bytes: number
  baselineRssMb: number
  peakRssMb: number
  peakHeapMb: number
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10
const day = (offset: number) => wallClock(new Date(Date.now() + offset * 86_400_000), TZ).toISOString().slice(0, 10)

async function exportOnly(url: string, out: string, locale: 'fa' | 'en'): Promise<void> {
  const db = createDb(url, { pool: { max: 2 } })
  const baselineRssMb = mb(process.memoryUsage().rss)
  let peakHeap = 0
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
  }, 20)
  const started = performance.now()
  const result = await writeReport({ db, kind: 'ledger', from: day(-31), to: day(1), locale, timeZone: TZ, currency: 'IRT', output: { filename: out } })
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  await db.destroy()
  const figures: ExportFigures = {
    rows: result.rows,
    seconds: Math.round(seconds * 100) / 100,
    bytes: (await fs.stat(out)).size,
    baselineRssMb,
    // maxRSS is in kilobytes.
    peakRssMb: mb(process.resourceUsage().maxRSS * 1024),
    peakHeapMb: mb(peakHeap),
  }
  process.stdout.write(JSON.stringify(figures) + '\n')
}

async function seed(url: string, rows: number): Promise<void> {
  const db = createDb(url, { pool: { max: 1 } })
  try {
    const wallets = 200
    const [admin] = await db('users').insert({ username: 'bench_admin', role: 'admin' }).returning('id')
    const users = await db('users')
      .insert(Array.from({ length: wallets }, (_, i) => ({ username: `bench_agent_${i}`, role: 'agent' })))
      .returning('id')
    await db('wallets').insert([admin, ...users].map((u: { id: number }) => ({ userId: u.id })))
    await db('agents').insert(users.map((u: { id: number }, i: number) => ({ userId: u.id, firstName: 'Agent', lastName: String(i) })))
    // Running balances per wallet, so every row satisfies before + delta = after and the wallets match the sums.
    await db.raw(
      `insert into ledger_entries (wallet_user_id, type, confirmed_delta, pending_delta, confirmed_before, confirmed_after,
                                   pending_before, pending_after, reference_type, reference_id, idempotency_key, actor_user_id, note, created_at)
       select w.user_id, 'CHARGE_MANUAL', x.delta, 0, x.running - x.delta, x.running, 0, 0, 'manual', null,
              'bench-' || x.i, ?, 'benchmark entry ' || x.i, now() - make_interval(secs => (? - x.i) * ?::float8)
         from (select i, i % ? as w, ((i % 7) - 2) * 1000 + 500 as delta,
                      sum(((i % 7) - 2) * 1000 + 500) over (partition by i % ? order by i) as running
                 from generate_series(1, ?) as i) x
         join (select user_id, row_number() over (order by user_id) - 1 as w from wallets where user_id <> ?) w on w.w = x.w
        order by x.i`,
      // Spread over the last 30 days, inside the 31-day window the export asks for.
      [admin.id, rows, (30 * 86_400) / rows, wallets, wallets, rows, admin.id],
    )
    await db.raw(
      `update wallets set confirmed = s.total from (select wallet_user_id, sum(confirmed_delta) as total from ledger_entries group by 1) s
        where s.wallet_user_id = wallets.user_id`,
    )
    await db.raw('analyze ledger_entries')
  } finally {
    await db.destroy()
  }
}

async function main(): Promise<void> {
  const locale = flags.locale === 'en' ? 'en' : 'fa'
  if (typeof flags['export-only'] === 'string') {
    await exportOnly(flags['export-only'], String(flags.out), locale)
    return
  }
  const rows = Number(flags.rows ?? 100_000)
  if (!Number.isSafeInteger(rows) || rows < 1) throw new Error(`--rows must be a positive integer, got ${String(flags.rows)}`)
  const { url, drop } = await createTestDatabase('bench_reports')
  const out = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'flowpanel-bench-')), `ledger-${locale}.xlsx`)
  try {
    const seedStart = performance.now()
    await seed(url, rows)
    process.stdout.write(`seeded ${rows} ledger entries in ${((performance.now() - seedStart) / 1000).toFixed(1)} s\n`)
    const self = fileURLToPath(import.meta.url)
    const child = spawn(process.execPath, ['--import', 'tsx', self, '--export-only', url, '--out', out, '--locale', locale], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    if (code !== 0) throw new Error(`the export process exited with ${code}`)
    const figures = JSON.parse(output.trim().split('\n').at(-1)!) as ExportFigures
    process.stdout.write(
      `ledger export (${locale}): ${figures.rows} rows, ${figures.seconds} s, ${mb(figures.bytes)} MB file\n` +
        `  peak RSS ${figures.peakRssMb} MB (process baseline before the export ${figures.baselineRssMb} MB), peak JS heap ${figures.peakHeapMb} MB, limit ${LIMIT_MB} MB\n`,
    )
    if (figures.rows !== rows) throw new Error(`expected ${rows} rows in the export, got ${figures.rows}`)
    if (figures.peakRssMb >= LIMIT_MB) {
      process.stdout.write(`FAIL: peak RSS ${figures.peakRssMb} MB is over the ${LIMIT_MB} MB limit\n`)
      process.exitCode = 1
    }
  } finally {
    await drop()
    await fs.rm(path.dirname(out), { recursive: true, force: true })
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
