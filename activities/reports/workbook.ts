import type { Writable } from 'node:stream'
import ExcelJS from 'exceljs'
import type { Readable } from 'node:stream'
import type { Db } from '#db/knex.ts'
import { streamAccounts, streamAgentSummary, streamLedger, streamOrders, streamPayments, type ReportWindow } from '#db/reports.ts'
import { currencyName } from '#domain/money.ts'
import { dayRange, formatJalaliDate, formatJalaliDateTime, gregorianToJalali, wallClock, type CalendarDate } from './calendar.ts'
import { label, REPORTS, type CellKind, type Column, type ReportKind, type ReportLocale } from './definitions.ts'

export interface WriteReportInput {
  db: Db
  kind: ReportKind
  /** `YYYY-MM-DD` local days, both included (years before 1700 are Jalali). */
  from: string
  to: string
  locale: ReportLocale
  /** IANA zone that days and times are read and shown in. */
  timeZone: string
  /** Currency code for money headers, e.g. IRT. */
  currency: string
  /** Either a file path or a stream the .xlsx is written to (an HTTP response, say). */
  output: { filename: string } | { stream: Writable }
  /** Clock for the "generated at" line; tests pass a fixed one. */
  now?: Date
}

export interface WriteReportResult {
  kind: ReportKind
  rows: number
  /** Column key → exact sum, as a decimal string for money and counts. */
  totals: Record<string, string>
}

const ROWS: Record<ReportKind, (db: Db, window: ReportWindow) => Readable> = {
  orders: streamOrders,
  payments: streamPayments,
  ledger: streamLedger,
  agents: streamAgentSummary,
  accounts: streamAccounts,
}

const GIB = 1024 ** 3

const NUMBER_FORMATS: Partial<Record<CellKind, string>> = {
  money: '#,##0;-#,##0',
  count: '0',
  id: '0',
  gigabytes: '#,##0.00',
  limit: '#,##0.00',
  ratio: '0.0%',
  datetime: 'yyyy-mm-dd hh:mm',
}

const UNLIMITED = { fa: 'نامحدود', en: 'Unlimited' }
const TOTAL = { fa: 'جمع', en: 'Total' }

/** Excel keeps numbers as doubles: integers beyond 2^53 are written as text rather than rounded. */
function integerCell(text: string): number | string {
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : text
}

function cellValue(kind: CellKind, raw: unknown, locale: ReportLocale, timeZone: string): ExcelJS.CellValue {
  if (raw === null || raw === undefined) return null
  switch (kind) {
    case 'money':
    case 'count':
    case 'id':
      return integerCell(String(raw))
    case 'gigabytes':
      return Number(raw) / GIB
    case 'limit':
      return String(raw) === '0' ? UNLIMITED[locale] : Number(raw) / GIB
    case 'ratio':
      return Number(raw)
    case 'datetime': {
      const date = raw instanceof Date ? raw : new Date(String(raw))
      return locale === 'fa' ? formatJalaliDateTime(date, timeZone) : wallClock(date, timeZone)
    }
    case 'label':
      return label(String(raw), locale)
    case 'text':
      return String(raw)
  }
}

function columnLetter(index: number): string {
  let n = index + 1
  let s = ''
  while (n > 0) {
    const r = (n - 1) % 26
    s = String.fromCharCode(65 + r) + s
    n = Math.floor((n - 1) / 26)
  }
  return s
}

function formatDay(day: CalendarDate, locale: ReportLocale): string {
  if (locale === 'fa') return formatJalaliDate(gregorianToJalali(day))
  return `${day.year}-${String(day.month).padStart(2, '0')}-${String(day.day).padStart(2, '0')}`
}

/**
 * Writes one report as an .xlsx with ExcelJS's streaming writer. Rows come from a Postgres cursor and
 * each is committed (serialised and handed to the zip stream) as soon as it is read, so memory stays
 * flat however many rows there are. fa reports are right-to-left with Jalali dates; en reports are
 * left-to-right with Excel dates. A totals row closes the sheet, with SUM formulas and their values,
 * and an info sheet records the range, the time zone and the row count.
 */
export async function writeReport(input: WriteReportInput): Promise<WriteReportResult> {
  const definition = REPORTS[input.kind]
  const { locale, timeZone } = input
  const range = dayRange(input.from, input.to, timeZone)
  const rtl = locale === 'fa'

  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    ...('filename' in input.output ? { filename: input.output.filename } : { stream: input.output.stream }),
    useStyles: true,
    useSharedStrings: false,
  })
  workbook.creator = 'flowpanel'
  workbook.title = definition.title[locale]
  workbook.created = input.now ?? new Date()

  const sheet = workbook.addWorksheet(definition.sheet[locale], {
    views: [{ rightToLeft: rtl, state: 'frozen', ySplit: 1 }],
  })
  const columns = definition.columns as Column<Record<string, unknown>>[]
  const currency = currencyName(input.currency, locale)
  sheet.columns = columns.map((c) => ({
    key: c.key,
    header: c.currency ? `${c.header[locale]} (${currency})` : c.header[locale],
    width: c.width,
    style: NUMBER_FORMATS[c.kind] ? { numFmt: NUMBER_FORMATS[c.kind] } : {},
  }))
  sheet.getRow(1).font = { bold: true }
  sheet.getRow(1).commit()

  const sums = new Map<string, { exact: bigint; approx: number }>()
  for (const c of columns) if (c.total) sums.set(c.key, { exact: 0n, approx: 0 })

  let rows = 0
  const stream = ROWS[input.kind](input.db, { from: range.from, until: range.until })
  for await (const row of stream as AsyncIterable<Record<string, unknown>>) {
    const values: ExcelJS.CellValue[] = []
    for (const c of columns) {
      const raw = c.value(row, locale)
      values.push(cellValue(c.kind, raw, locale, timeZone))
      const sum = sums.get(c.key)
      if (sum && raw !== null && raw !== undefined) {
        if (c.kind === 'gigabytes') sum.approx += Number(raw) / GIB
        else sum.exact += BigInt(String(raw))
      }
    }
    sheet.addRow(values).commit()
    rows++
  }

  const totals: Record<string, string> = {}
  const totalValues: ExcelJS.CellValue[] = columns.map((c, i) => {
    if (i === 0) return TOTAL[locale]
    const sum = sums.get(c.key)
    if (!sum) return null
    const result = c.kind === 'gigabytes' ? sum.approx : integerCell(sum.exact.toString())
    totals[c.key] = c.kind === 'gigabytes' ? String(sum.approx) : sum.exact.toString()
    // ExcelJS drops a cached result of 0, which would leave the cell blank until recalculated: write the value.
    if (rows === 0 || result === 0) return result
    const letter = columnLetter(i)
    return { formula: `SUM(${letter}2:${letter}${rows + 1})`, result } as ExcelJS.CellFormulaValue
  })
  const totalRow = sheet.addRow(totalValues)
  totalRow.font = { bold: true }
  totalRow.commit()
  sheet.commit()

  const info = workbook.addWorksheet(locale === 'fa' ? 'مشخصات' : 'About', { views: [{ rightToLeft: rtl }] })
  info.columns = [
    { key: 'k', width: 22 },
    { key: 'v', width: 34 },
  ]
  const generated = input.now ?? new Date()
  const lines: [{ fa: string; en: string }, string | number][] = [
    [{ fa: 'گزارش', en: 'Report' }, definition.title[locale]],
    [{ fa: 'از', en: 'From' }, formatDay(range.fromDay, locale)],
    [{ fa: 'تا', en: 'To' }, formatDay(range.toDay, locale)],
    [{ fa: 'منطقه زمانی', en: 'Time zone' }, timeZone],
    [{ fa: 'تعداد ردیف', en: 'Rows' }, rows],
    [
      { fa: 'تهیه شده در', en: 'Generated' },
      locale === 'fa' ? formatJalaliDateTime(generated, timeZone) : wallClock(generated, timeZone).toISOString().slice(0, 16).replace('T', ' '),
    ],
  ]
  for (const [name, value] of lines) info.addRow([name[locale], value]).commit()
  info.commit()

  await workbook.commit()
  return { kind: input.kind, rows, totals }
}
