import type { LoaderFunctionArgs } from '@remix-run/node'
import { audit } from '~/utils/audit.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { parseReportParams, reportResponse } from './admin.reports.server.ts'

/**
 * GET /admin/reports/download?kind=ledger&from=2026-01-01&to=2026-01-31&locale=fa: the report as .xlsx.
 * Reports hold customers' and agents' details, so every download is written to the audit log.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const admin = await requireAdmin(request, context)
  const params = parseReportParams(new URL(request.url).searchParams, admin.locale === 'en' ? 'en' : 'fa')
  if (!params.ok) {
    const problems = Object.entries(params.errors).map(([field, problem]) => `${field}: ${problem}`)
    return new Response(`Bad report request (${problems.join(', ')}). Use kind=orders|payments|ledger|agents|accounts, from and to as YYYY-MM-DD.`, {
      status: 400,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    })
  }
  await audit(request, context, admin.id, 'report.download', { type: 'report', id: params.value.kind }, { ...params.value })
  return reportResponse(context, params.value)
}
