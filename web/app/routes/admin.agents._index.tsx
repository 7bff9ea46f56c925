import type { LoaderFunctionArgs } from '@remix-run/node'
import { Form, Link, useLoaderData } from '@remix-run/react'
import { listAgents } from '#db/web-agents.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Ltr, PageHeader, StatusBadge } from '~/components/page.tsx'
import { Pagination } from '~/components/pagination.tsx'
import { pageParam } from '~/utils/admin.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { queryText } from '~/utils/forms.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const admin = await requireAdmin(request, context)
  const url = new URL(request.url)
  const q = queryText(url, 'q', i18nFor(request, context, admin).t) ?? ''
  const page = pageParam(url)
  const { rows, hasMore } = await listAgents(context.db, { q: q || undefined, page })
  return { q, page, hasMore, agents: rows }
}

export default function AgentsList() {
  const { q, page, hasMore, agents } = useLoaderData<typeof loader>()
  const { t, fmt } = useI18n()
  return (
    <>
      <PageHeader title={t.agents.title}>
        <Link className="btn btn-primary" to="/admin/agents/new">
          {t.agents.newAgent}
        </Link>
      </PageHeader>
      <Form method="get" className="filters">
        <div className="field">
          <label htmlFor="q">{t.common.search}</label>
          <input id="q" name="q" defaultValue={q} placeholder={t.agents.searchPlaceholder} />
        </div>
        <button className="btn" type="submit">
          {t.common.search}
        </button>
      </Form>
      {agents.length === 0 ? (
        <p className="muted">{t.common.empty}</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>{t.common.name}</th>
                <th>{t.auth.username}</th>
                <th>{t.agents.shopName}</th>
                <th>{t.agents.phone}</th>
                <th className="num">{t.agents.usable}</th>
                <th className="num">{t.agents.activeAccounts}</th>
                <th>{t.common.status}</th>
              </tr>
            </thead>
            <tbody>
              {agents.map((a) => {
                const usable = a.confirmed + a.pending
                return (
                  <tr key={a.userId}>
                    <td>
                      <Link to={`/admin/agents/${a.userId}`}>
                        {a.firstName} {a.lastName}
                      </Link>
                    </td>
                    <td>
                      <Ltr>{a.username}</Ltr>
                    </td>
                    <td>{a.shopName ?? '—'}</td>
                    <td>{a.phone ? <Ltr>{a.phone}</Ltr> : '—'}</td>
                    <td className={`num ${usable < 0n ? 'negative' : ''}`}>{fmt.money(usable)}</td>
                    <td className="num">
                      {fmt.number(a.activeAccounts)}
                      {a.maxActiveAccounts !== null ? ` / ${fmt.number(a.maxActiveAccounts)}` : ''}
                    </td>
                    <td>
                      <StatusBadge status={a.status} label={a.status === 'active' ? t.common.active : t.common.disabled} />
                    </td>
                  </tr>
                )
              })}
            </tbody>
          </table>
        </div>
      )}
      <Pagination page={page} hasMore={hasMore} />
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
