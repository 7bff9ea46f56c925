import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPORTS, REPORT_KINDS, type ReportKind, type ReportLocale } from '#activities/reports/definitions.ts'
import { wallClock } from '#activities/reports/calendar.ts'
import { writeReport } from '#activities/reports/workbook.ts'
import { checkLedger, getWallet } from '#db/ledger.ts'
import type { Db } from '#db/knex.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { seedReportData, type SeededReportData } from './seed.ts'

const TZ = 'Asia/Tehran'
let db: Db
let url: string
let drop: () => Promise<void>
let seeded: SeededReportData
let dir: string

function localDay(offsetDays: number): string {
  return wallClock(new Date(Date.now() + offsetDays * 86_400_000), TZ).toISOString().slice(0, 10)
}
const FROM = () => localDay(-2)
const TO = () => localDay(1)

beforeAll(async () => {
  ;({ db, url, drop } = await createTestDatabase('reports'))
  seeded = await seedReportData(db)
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowpanel-reports-'))
})

afterAll(async () => {
  await drop?.()
  if (dir) await fs.rm(dir, { recursive: true, force: true })
})

async function exportAndOpen(kind: ReportKind, locale: ReportLocale, from = FROM(), to = TO()) {
  const filename = path.join(dir, `${kind}-${locale}-${from}-${to}.xlsx`)
  const result = await writeReport({ db, kind, from, to, locale, timeZone: TZ, currency: 'IRT', output: { filename } })
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.readFile(filename)
  const sheet = workbook.worksheets[0]!
  const headers = (sheet.getRow(1).values as unknown[]).slice(1)
  const data: ExcelJS.Row[] = []
  for (let r = 2; r <= sheet.rowCount - 1; r++) data.push(sheet.getRow(r))
  const totalRow = sheet.getRow(sheet.rowCount)
  const column = (key: string) => REPORTS[kind].columns.findIndex((c) => c.key === key) + 1
  return { result, workbook, sheet, headers, data, totalRow, column }
}

function cellNumber(cell: ExcelJS.Cell): number {
  const v = cell.value
  if (typeof v === 'number') return v
  if (v && typeof v === 'object' && 'result' in v) return Number(v.result)
  throw new Error(`cell ${cell.address} holds ${JSON.stringify(v)}, not a number`)
}

async function scalar(sql: string, bindings: unknown[] = []): Promise<string> {
  const res = await db.raw(sql, bindings as never)
  return String(Object.values(res.rows[0] as Record<string, unknown>)[0])
}

describe('Excel reports', () => {
  it('every report opens with its headers in both languages, fa right-to-left and en left-to-right', async () => {
    for (const kind of REPORT_KINDS) {
      for (const locale of ['fa', 'en'] as const) {
        const { sheet, headers, workbook } = await exportAndOpen(kind, locale)
        const expected = REPORTS[kind].columns.map((c) => (c.currency ? `${c.header[locale]} (${locale === 'fa' ? 'تومان' : 'Toman'})` : c.header[locale]))
        expect(headers, `${kind}/${locale}`).toEqual(expected)
        expect(sheet.name).toBe(REPORTS[kind].sheet[locale])
        expect(Boolean(sheet.views[0]?.rightToLeft), `${kind}/${locale} direction`).toBe(locale === 'fa')
        expect(workbook.worksheets).toHaveLength(2)
      }
    }
  })

  it('ledger: one row per entry in the window, balances as numbers, totals equal to the ledger and the wallets', async () => {
    const { data, totalRow, column, result, sheet } = await exportAndOpen('ledger', 'en')
    const entries = Number(await scalar('select count(*) from ledger_entries'))
    expect(entries).toBeGreaterThan(10)
    expect(data).toHaveLength(entries)
    expect(result.rows).toBe(entries)

    const confirmedSum = await scalar('select sum(confirmed_delta) from ledger_entries')
    const pendingSum = await scalar('select sum(pending_delta) from ledger_entries')
    const walletConfirmed = await scalar('select sum(confirmed) from wallets')
    const walletPending = await scalar('select sum(pending) from wallets')
    // The whole ledger is in the window, so its totals are the wallets' balances.
    expect(confirmedSum).toBe(walletConfirmed)
    expect(pendingSum).toBe(walletPending)
    expect(result.totals.confirmedDelta).toBe(confirmedSum)
    expect(result.totals.pendingDelta).toBe(pendingSum)
    expect(cellNumber(totalRow.getCell(column('confirmedDelta')))).toBe(Number(confirmedSum))
    expect(cellNumber(totalRow.getCell(column('pendingDelta')))).toBe(Number(pendingSum))
    const formula = totalRow.getCell(column('confirmedDelta')).value as ExcelJS.CellFormulaValue
    expect(formula.formula).toBe(`SUM(F2:F${entries + 1})`)

    // The sum of the cells, recomputed from the file, matches too.
    let fromCells = 0
    for (const row of data) fromCells += cellNumber(row.getCell(column('confirmedDelta')))
    expect(fromCells).toBe(Number(confirmedSum))

    const first = data[0]!
    expect(typeof first.getCell(column('confirmedAfter')).value).toBe('number')
    expect(first.getCell(column('confirmedDelta')).numFmt).toBe('#,##0;-#,##0')
    expect(first.getCell(column('createdAt')).value).toBeInstanceOf(Date)
    expect(sheet.getRow(1).getCell(1).value).toBe('Entry')
    expect((await checkLedger(db)).ok).toBe(true)
  })

  it('fa ledger: Jalali date strings and translated entry types', async () => {
    const { data, column } = await exportAndOpen('ledger', 'fa')
    const created = data[0]!.getCell(column('createdAt')).value
    expect(created).toMatch(/^14\d\d\/\d\d\/\d\d \d\d:\d\d$/)
    const types = new Set(data.map((r) => r.getCell(column('type')).value))
    expect(types).toContain('برداشت سفارش')
    expect(types).toContain('شارژ رد شده')
  })

  it('orders: the window filters by creation time, with agent, plan, panel and price', async () => {
    const { data, totalRow, column, result } = await exportAndOpen('orders', 'en')
    expect(data).toHaveLength(seeded.orderIds.length)
    const ids = data.map((r) => r.getCell(column('id')).value)
    expect(ids).toEqual(seeded.orderIds)
    expect(ids).not.toContain(seeded.oldOrderId)

    const priceSum = await scalar('select sum(price) from orders where id = any(?)', [seeded.orderIds])
    expect(cellNumber(totalRow.getCell(column('price')))).toBe(Number(priceSum))
    expect(result.totals.price).toBe(priceSum)

    const aliRow = data.find((r) => r.getCell(column('username')).value === 'agent_ali')!
    expect(aliRow.getCell(column('agentName')).value).toBe('علی رضایی')
    expect(aliRow.getCell(column('plan')).value).toBe('Monthly 50 GB')
    expect(aliRow.getCell(column('panel')).value).toBe('de-1')
    expect(aliRow.getCell(column('price')).value).toBe(200_000)

    // Delivered orders' prices are what the ledger debited for them.
    const delivered = data.filter((r) => ['delivered', 'refunded'].includes(String(r.getCell(column('status')).value)))
    const deliveredSum = delivered.reduce((s, r) => s + cellNumber(r.getCell(column('price'))), 0)
    const debited = await scalar(`select -sum(confirmed_delta) from ledger_entries where type = 'ORDER_DEBIT'`)
    expect(deliveredSum).toBe(Number(debited))
  })

  it('payments: method, decision, who and when', async () => {
    const { data, column, totalRow } = await exportAndOpen('payments', 'fa')
    expect(data.map((r) => r.getCell(column('id')).value)).toEqual(seeded.paymentIds)
    const rejected = data.find((r) => r.getCell(column('status')).value === 'رد شده')!
    expect(rejected.getCell(column('decidedBy')).value).toBe('boss')
    expect(rejected.getCell(column('decidedAt')).value).toMatch(/^14\d\d\//)
    expect(rejected.getCell(column('methodKind')).value).toBe('کارت به کارت')
    const amountSum = await scalar('select sum(amount) from payments where id = any(?)', [seeded.paymentIds])
    expect(cellNumber(totalRow.getCell(column('amount')))).toBe(Number(amountSum))
    expect(totalRow.getCell(1).value).toBe('جمع')
  })

  it('agents summary: sales, refunds and credit per agent agree with the ledger and the wallets', async () => {
    const { data, column, totalRow } = await exportAndOpen('agents', 'en')
    expect(data).toHaveLength(2)
    const [aliId, bitaId] = seeded.agentIds
    const ali = data.find((r) => r.getCell(column('userId')).value === aliId)!
    const bita = data.find((r) => r.getCell(column('userId')).value === bitaId)!
    expect(ali.getCell(column('sales')).value).toBe(600_000)
    expect(ali.getCell(column('refunds')).value).toBe(100_000)
    expect(ali.getCell(column('chargesApproved')).value).toBe(1_000_000)
    expect(ali.getCell(column('ordersDelivered')).value).toBe(2)
    expect(ali.getCell(column('activeAccounts')).value).toBe(2)
    const aliWallet = await getWallet(db, aliId)
    expect(ali.getCell(column('usable')).value).toBe(Number(aliWallet.usable))

    const bitaWallet = await getWallet(db, bitaId)
    expect(bitaWallet.usable).toBe(-150_000n)
    expect(bita.getCell(column('usable')).value).toBe(-150_000)
    expect(bita.getCell(column('negativeSince')).value).toBeInstanceOf(Date)
    expect(ali.getCell(column('negativeSince')).value).toBeNull()

    const salesInLedger = await scalar(
      `select -sum(le.confirmed_delta + le.pending_delta) from ledger_entries le join users u on u.id = le.wallet_user_id where u.role = 'agent' and le.type = 'ORDER_DEBIT'`,
    )
    expect(cellNumber(totalRow.getCell(column('sales')))).toBe(Number(salesInLedger))
  })

  it('accounts: usage in GB, limits and expiry', async () => {
    const { data, column, totalRow } = await exportAndOpen('accounts', 'en')
    expect(data.map((r) => r.getCell(column('id')).value)).toEqual(seeded.accountIds)
    const sara = data.find((r) => r.getCell(column('panelUsername')).value === 'sara_1')!
    expect(sara.getCell(column('dataUsed')).value).toBe(49)
    expect(sara.getCell(column('dataLimit')).value).toBe(50)
    expect(sara.getCell(column('usage')).value).toBeCloseTo(0.98)
    expect(sara.getCell(column('expiresAt')).value).toBeInstanceOf(Date)
    expect(cellNumber(totalRow.getCell(column('dataUsed')))).toBeCloseTo(10 + 5 + 0 + 1.5 + 49)
  })

  it('an empty window gives headers and a zero totals row', async () => {
    const { data, totalRow, column, result } = await exportAndOpen('ledger', 'en', '2019-01-01', '2019-01-31')
    expect(data).toHaveLength(0)
    expect(result.rows).toBe(0)
    expect(totalRow.getCell(column('confirmedDelta')).value).toBe(0)
  })

  it('the CLI writes a report and refuses bad input with a clear message', async () => {
    const run = promisify(execFile)
    const out = path.join(dir, 'cli-ledger.xlsx')
    const env = { ...process.env, DATABASE_URL: url }
    const ok = await run('npx', ['tsx', 'bin/flowpanel.ts', 'report', 'ledger', '--from', FROM(), '--to', TO(), '--out', out, '--locale', 'en'], { env })
    expect(ok.stdout).toMatch(/ledger: \d+ rows written to/)
    const workbook = new ExcelJS.Workbook()
    await workbook.xlsx.readFile(out)
    expect(workbook.worksheets[0]!.rowCount).toBe(Number(await scalar('select count(*) from ledger_entries')) + 2)

    const bad = await run('npx', ['tsx', 'bin/flowpanel.ts', 'report', 'ledger', '--from', '2026-02-30', '--to', TO(), '--out', out], { env }).catch((e) => e)
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--from "2026-02-30": month 2 of 2026 has no day 30')
  })
})
