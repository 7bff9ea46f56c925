import fs from 'node:fs/promises'
import path from 'node:path'
import { createDb } from '#db/knex.ts'
import { REPORT_KINDS, isReportKind } from '#activities/reports/definitions.ts'
import { writeReport } from '#activities/reports/workbook.ts'
import { optionalFlag, requireFlag, UsageError, type Command } from '../cli.ts'
import { EnvSchema } from '#config/env.ts'
import { resolveCliDatabaseUrl } from '../start/data-dir.ts'

export const DEFAULT_REPORT_TIME_ZONE = 'Asia/Tehran'

/** The slice of the configuration a report needs; the CLI does not need APP_SECRET to read the database. */
function reportSettings(): { locale: 'fa' | 'en'; currency: string } {
  const env = EnvSchema.pick({ DEFAULT_LOCALE: true, CURRENCY: true }).parse(process.env)
  return { locale: env.DEFAULT_LOCALE, currency: env.CURRENCY }
}

const report: Command = {
  name: ['report'],
  usage: `report <${REPORT_KINDS.join('|')}> --from YYYY-MM-DD --to YYYY-MM-DD --out file.xlsx [--locale fa|en] [--tz ${DEFAULT_REPORT_TIME_ZONE}] [--database-url URL]`,
  summary: 'Write an Excel report for a range of days (both included; years before 1700 are Jalali)',
  async run({ args, flags, out }) {
    const kind = args[0]
    if (!kind) throw new UsageError(`say which report: ${REPORT_KINDS.join(', ')}`)
    if (!isReportKind(kind)) throw new UsageError(`"${kind}" is not a report; choose one of ${REPORT_KINDS.join(', ')}`)
    const from = requireFlag(flags, 'from')
    const to = requireFlag(flags, 'to')
    const outPath = path.resolve(requireFlag(flags, 'out'))
    if (!outPath.endsWith('.xlsx')) throw new UsageError(`--out must name an .xlsx file, got ${outPath}`)
    const settings = reportSettings()
    const locale = optionalFlag(flags, 'locale') ?? settings.locale
    if (locale !== 'fa' && locale !== 'en') throw new UsageError(`--locale must be fa or en, got "${locale}"`)
    const timeZone = optionalFlag(flags, 'tz') ?? DEFAULT_REPORT_TIME_ZONE

    const db = createDb(resolveCliDatabaseUrl(flags), { pool: { max: 2 } })
    // Written beside the target and renamed at the end, so a failed export never leaves a half file under the real name.
    const partial = `${outPath}.partial`
    try {
      await fs.mkdir(path.dirname(outPath), { recursive: true })
      const started = Date.now()
      let result
      try {
        result = await writeReport({ db, kind, from, to, locale, timeZone, currency: settings.currency, output: { filename: partial } })
      } catch (error) {
        if (error instanceof RangeError) throw new UsageError(error.message)
        throw error
      }
      await fs.rename(partial, outPath)
      out(`${kind}: ${result.rows} rows written to ${outPath} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      return 0
    } finally {
      await fs.rm(partial, { force: true })
      await db.destroy()
    }
  },
}

export const commands: Command[] = [report]
