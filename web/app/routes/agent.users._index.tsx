import type { LoaderFunctionArgs } from '@remix-run/node'
import { Form, Link, useLoaderData } from '@remix-run/react'
import { ACCOUNT_FILTERS, listAccountsOfUser, type AccountFilter } from '#db/shop.ts'
import { AccountStatus, DaysLeft } from '~/components/account-row.tsx'
import { CopyButton } from '~/components/copy-button.tsx'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Card, Ltr, PageHeader } from '~/components/page.tsx'
import { Pagination } from '~/components/pagination.tsx'
import { UsageBar } from '~/components/usage-bar.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const url = new URL(request.url)
  const statusParam = url.searchParams.get('status') ?? 'all'
  const status: AccountFilter = (ACCOUNT_FILTERS as readonly string[]).includes(statusParam) ? (statusParam as AccountFilter) : 'all'
  const search = (url.searchParams.get('q') ?? '').slice(0, 100)
  const page = Math.max(1, Number(url.searchParams.get('page')) || 1)
  const accounts = await listAccountsOfUser(context.db, user.id, { status, search, page })
  return { accounts, status, search }
}

export default function AgentUsers() {
  const { accounts, status, search } = useLoaderData<typeof loader>()
  const { t, locale } = useI18n()
  const s = t.shop
  return (
    <>
      <PageHeader title={s.accounts.agentTitle}>
        <Link to="/agent/users/new" className="btn btn-primary">
          {s.nav.newUser}
        </Link>
      </PageHeader>
      <Form method="get" className="filters">
        <div className="field">
          <label htmlFor="f-q">{t.common.search}</label>
          <input id="f-q" name="q" defaultValue={search} placeholder={s.accounts.searchPlaceholder} />
        </div>
        <div className="field">
          <label htmlFor="f-status">{t.common.status}</label>
          <select id="f-status" name="status" defaultValue={status}>
            {ACCOUNT_FILTERS.map((f) => (
              <option key={f} value={f}>
                {f === 'all' ? t.common.all : t.orders.accountStatuses[f]}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="btn">
          {t.common.filter}
        </button>
      </Form>
      <Card>
        {accounts.rows.length === 0 ? (
          <p className="muted">{t.common.empty}</p>
        ) : (
          <div className="table-wrap">
            <table data-testid="accounts">
              <thead>
                <tr>
                  <th>{t.orders.username}</th>
                  <th>{t.orders.plan}</th>
                  <th>{t.common.status}</th>
                  <th>{t.orders.usage}</th>
                  <th>{t.orders.expires}</th>
                  <th>{t.orders.subscription}</th>
                  <th>{t.common.actions}</th>
                </tr>
              </thead>
              <tbody>
                {accounts.rows.map((a) => (
                  <tr key={a.id} data-account-id={a.id}>
                    <td>
                      <Link to={`/agent/users/${a.id}`}>
                        <Ltr>{a.panelUsername}</Ltr>
                      </Link>
                      {a.label ? <div className="muted">{a.label}</div> : null}
                    </td>
                    <td>
                      {locale === 'fa' ? a.planNameFa : a.planNameEn}
                      <div className="muted">{locale === 'fa' ? a.locationNameFa : a.locationNameEn}</div>
                    </td>
                    <td>
                      <AccountStatus status={a.status} reason={a.disabledReason} />
                    </td>
                    <td>
                      <UsageBar usedBytes={a.dataUsedBytes} limitBytes={a.dataLimitBytes} />
                    </td>
                    <td>
                      <DaysLeft expiresAt={a.expiresAt} />
                    </td>
                    <td>
                      {a.subscriptionUrl && a.status !== 'deleted' ? (
                        <>
                          <CopyButton text={a.subscriptionUrl} />{' '}
                          <Link to={`/agent/users/${a.id}#link`} className="btn btn-small btn-ghost">
                            {s.accounts.qr}
                          </Link>
                        </>
                      ) : (
                        '—'
                      )}
                    </td>
                    <td className="actions">
                      {a.status !== 'deleted' ? (
                        <>
                          <Link to={`/agent/users/${a.id}#renew`} className="btn btn-small">
                            {s.accounts.renew}
                          </Link>{' '}
                          <Link to={`/agent/users/${a.id}/delete`} className="btn btn-small btn-danger">
                            {t.common.delete}
                          </Link>
                        </>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pagination page={accounts.page} hasMore={accounts.hasMore} />
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
