import type { LoaderFunctionArgs } from '@remix-run/node'
import { Form, useLoaderData } from '@remix-run/react'
import { listAudit } from '#db/audit.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Ltr, PageHeader } from '~/components/page.tsx'
import { Pagination } from '~/components/pagination.tsx'
import { pageParam } from '~/utils/admin.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { queryText } from '~/utils/forms.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const admin = await requireAdmin(request, context)
  const url = new URL(request.url)
  const { t } = i18nFor(request, context, admin)
  const filter = {
    actor: queryText(url, 'actor', t),
    action: queryText(url, 'action', t),
    target: queryText(url, 'target', t),
    page: pageParam(url),
  }
  const { rows, hasMore } = await listAudit(context.db, filter)
  return { filter, rows, hasMore }
}

export default function AuditLog() {
  const { filter, rows, hasMore } = useLoaderData<typeof loader>()
  const { t, fmt } = useI18n()
  return (
    <>
      <PageHeader title={t.audit.title} />
      <Form method="get" className="filters">
        <div className="field">
          <label htmlFor="f-actor">{t.audit.who}</label>
          <input id="f-actor" name="actor" dir="ltr" defaultValue={filter.actor ?? ''} />
        </div>
        <div className="field">
          <label htmlFor="f-action">{t.audit.what}</label>
          <input id="f-action" name="action" dir="ltr" defaultValue={filter.action ?? ''} placeholder="agent." />
        </div>
        <div className="field">
          <label htmlFor="f-target">{t.audit.target}</label>
          <input id="f-target" name="target" dir="ltr" defaultValue={filter.target ?? ''} placeholder="user:12" />
        </div>
        <button type="submit" className="btn btn-primary">
          {t.common.filter}
        </button>
      </Form>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>{t.audit.when}</th>
              <th>{t.audit.who}</th>
              <th>{t.audit.what}</th>
              <th>{t.audit.target}</th>
              <th>{t.common.details}</th>
              <th>{t.audit.where}</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={6} className="muted">
                  {t.common.empty}
                </td>
              </tr>
            ) : null}
            {rows.map((r) => (
              <tr key={r.id}>
                <td>{fmt.dateTime(r.createdAt)}</td>
                <td>{r.actorUsername ? <Ltr>{r.actorUsername}</Ltr> : <span className="muted">{t.audit.system}</span>}</td>
                <td>
                  <Ltr>
                    <span className="mono">{r.action}</span>
                  </Ltr>
                </td>
                <td>{r.targetType ? <Ltr>{`${r.targetType}:${r.targetId ?? ''}`}</Ltr> : '—'}</td>
                <td>
                  {Object.keys(r.detail ?? {}).length > 0 ? (
                    <Ltr>
                      <code className="mono">{JSON.stringify(r.detail)}</code>
                    </Ltr>
                  ) : (
                    '—'
                  )}
                </td>
                <td>{r.ip ? <Ltr>{r.ip}</Ltr> : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Pagination page={filter.page} hasMore={hasMore} />
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
