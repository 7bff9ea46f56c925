import { PassThrough, Readable } from 'node:stream'
import type { AppLoadContext } from '@remix-run/node'
import { dayRange, formatJalaliDate, gregorianToJalali, wallClock } from '#activities/reports/calendar.ts'
import { REPORT_KINDS, isReportKind, type ReportKind, type ReportLocale } from '#activities/reports/definitions.ts'
import { writeReport } from '#activities/reports/workbook.ts'

/** Days and times in reports are Tehran's, as in the CLI's default. */
export const REPORT_TIME_ZONE = 'Asia/Tehran'

export interface ReportRequest {
  kind: ReportKind
  from: string
  to: string
  locale: ReportLocale
}

export type ReportParams = { ok: true; value: ReportRequest } | { ok: false; errors: Partial<Record<'kind' | 'from' | 'to' | 'locale', string>> }

/**
 * Reads `kind`, `from`, `to` and `locale` from a query string. Error values are message keys of the page:
 * `kind`, `date` (not YYYY-MM-DD or no such day), `order` (to before from).
 */
export function parseReportParams(params: URLSearchParams, fallbackLocale: ReportLocale): ReportParams {
  const errors: Partial<Record<'kind' | 'from' | 'to' | 'locale', string>> = {}
  const kind = params.get('kind') ?? ''
  const from = (params.get('from') ?? '').trim()
  const to = (params.get('to') ?? '').trim()
  const locale = params.get('locale') ?? fallbackLocale
  if (!isReportKind(kind)) errors.kind = 'kind'
  if (locale !== 'fa' && locale !== 'en') errors.locale = 'locale'
  for (const [field, value] of [['from', from], ['to', to]] as const) {
    try {
      dayRange(value, value, REPORT_TIME_ZONE)
    } catch {
      errors[field] = 'date'
    }
  }
  if (!errors.from && !errors.to) {
    try {
      dayRange(from, to, REPORT_TIME_ZONE)
    } catch {
      errors.to = 'order'
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors }
  return { ok: true, value: { kind: kind as ReportKind, from, to, locale: locale as ReportLocale } }
}

/** The first and last day of the current month, in the calendar of the locale (Jalali for fa). */
export function currentMonth(locale: ReportLocale, now = new Date()): { from: string; to: string } {
  const local = wallClock(now, REPORT_TIME_ZONE)
  const today = { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() }
  if (locale === 'fa') {
    const j = gregorianToJalali(today)
    return { from: formatJalaliDate({ ...j, day: 1 }).replaceAll('/', '-'), to: formatJalaliDate(j).replaceAll('/', '-') }
  }
  const pad = (n: number) => String(n).padStart(2, '0')
  return { from: `${today.year}-${pad(today.month)}-01`, to: `${today.year}-${pad(today.month)}-${pad(today.day)}` }
}

/**
 * The .xlsx as a streamed HTTP response: rows go from the Postgres cursor through ExcelJS's streaming writer
 * to the client as they are read. A failure half-way aborts the download rather than sending a broken file
 * that looks complete.
 */
export function reportResponse(context: AppLoadContext, request: ReportRequest): Response {
  const body = new PassThrough()
  writeReport({
    db: context.db,
    kind: request.kind,
    from: request.from,
    to: request.to,
    locale: request.locale,
    timeZone: REPORT_TIME_ZONE,
    currency: context.env.CURRENCY,
    output: { stream: body },
  }).catch((error: unknown) => body.destroy(error instanceof Error ? error : new Error(String(error))))
  const filename = `flowpanel-${request.kind}-${request.from}-${request.to}.xlsx`
  return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
    headers: {
      'Content-Type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'Content-Disposition': `attachment; filename="${filename}"`,
      'Cache-Control': 'no-store',
    },
  })
}

export { REPORT_KINDS }
