import type { LoaderFunctionArgs } from '@remix-run/node'
import { Form, Link, useLoaderData } from '@remix-run/react'
import { listPanels } from '#db/panels.ts'
import { parseId } from '#domain/ids.ts'
import { listUsersForFilter, searchAccounts, searchOrders } from '#db/web-orders.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Ltr, PageHeader, StatusBadge } from '~/components/page.tsx'
import { Pagination } from '~/components/pagination.tsx'
import { Usage } from '~/components/usage.tsx'
import { pageParam } from '~/utils/admin.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { queryText } from '~/utils/forms.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'

const ORDER_STATUSES = ['pending', 'awaiting_payment', 'provisioning', 'delivered', 'failed', 'cancelled', 'refunded'] as const
const ACCOUNT_STATUSES = ['active', 'disabled', 'limited', 'expired', 'deleted'] as const
const DAY = /^\d{4}-\d{2}-\d{2}$/

export async function loader({ request, context }: LoaderFunctionArgs) {
  const admin = await requireAdmin(request, context)
  const url = new URL(request.url)
  const tab = url.searchParams.get('tab') === 'accounts' ? 'accounts' : 'orders'
  const { t } = i18nFor(request, context, admin)
  const get = (name: string) => queryText(url, name, t)
  const intParam = (name: string) => parseId(get(name)) ?? undefined
  const statuses: readonly string[] = tab === 'orders' ? ORDER_STATUSES : ACCOUNT_STATUSES
  const status = get('status')
  const filter = {
    status: status && statuses.includes(status) ? status : undefined,
    userId: intParam('agent'),
    panelId: intParam('panel'),
    from: get('from') && DAY.test(get('from')!) ? get('from') : undefined,
    to: get('to') && DAY.test(get('to')!) ? get('to') : undefined,
    q: get('q'),
    page: pageParam(url),
  }
  const [agents, panels] = await Promise.all([listUsersForFilter(context.db), listPanels(context.db)])
  const orders = tab === 'orders' ? await searchOrders(context.db, filter) : null
  const accounts = tab === 'accounts' ? await searchAccounts(context.db, filter) : null
  return {
    tab,
    filter,
    agents,
    panels: panels.map((p) => ({ id: p.id, name: p.name })),
    orders: orders?.rows ?? [],
    accounts: accounts?.rows ?? [],
    hasMore: (orders ?? accounts)!.hasMore,
  }
}

export default function OrdersAndAccounts() {
  const { tab, filter, agents, panels, orders, accounts, hasMore } = useLoaderData<typeof loader>()
  const { t, fmt, locale } = useI18n()
  const statusOptions = tab === 'orders' ? ORDER_STATUSES.map((s) => [s, t.orders.statuses[s]]) : ACCOUNT_STATUSES.map((s) => [s, t.orders.accountStatuses[s]])
  return (
    <>
      <PageHeader title={t.orders.title}>
        <Link className={`btn ${tab === 'orders' ? 'btn-primary' : ''}`} to="?tab=orders">
          {t.orders.ordersTab}
        </Link>
        <Link className={`btn ${tab === 'accounts' ? 'btn-primary' : ''}`} to="?tab=accounts">
          {t.orders.accountsTab}
        </Link>
      </PageHeader>
      <Form method="get" className="filters">
        <input type="hidden" name="tab" value={tab} />
        <div className="field">
          <label htmlFor="f-q">{t.common.search}</label>
          <input id="f-q" name="q" defaultValue={filter.q ?? ''} dir="auto" />
        </div>
        <div className="field">
          <label htmlFor="f-status">{t.common.status}</label>
          <select id="f-status" name="status" defaultValue={filter.status ?? ''}>
            <option value="">{t.common.all}</option>
            {statusOptions.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-agent">{t.orders.agent}</label>
          <select id="f-agent" name="agent" defaultValue={filter.userId ? String(filter.userId) : ''}>
            <option value="">{t.common.all}</option>
            {agents.map((a) => (
              <option key={a.id} value={a.id}>
                {a.username}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-panel">{t.orders.panel}</label>
          <select id="f-panel" name="panel" defaultValue={filter.panelId ? String(filter.panelId) : ''}>
            <option value="">{t.common.all}</option>
            {panels.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-from">{t.orders.dateFrom}</label>
          <input id="f-from" name="from" type="date" defaultValue={filter.from ?? ''} />
        </div>
        <div className="field">
          <label htmlFor="f-to">{t.orders.dateTo}</label>
          <input id="f-to" name="to" type="date" defaultValue={filter.to ?? ''} />
        </div>
        <button type="submit" className="btn btn-primary">
          {t.common.filter}
        </button>
        <Link to={`?tab=${tab}`} className="btn">
          {t.common.reset}
        </Link>
      </Form>

      {tab === 'orders' ? (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>{t.common.id}</th>
                <th>{t.orders.buyer}</th>
                <th>{t.orders.plan}</th>
                <th>{t.orders.kind}</th>
                <th className="num">{t.orders.price}</th>
                <th>{t.common.status}</th>
                <th>{t.orders.username}</th>
                <th>{t.common.created}</th>
              </tr>
            </thead>
            <tbody>
              {orders.length === 0 ? (
                <tr>
                  <td colSpan={8} className="muted">
                    {t.common.empty}
                  </td>
                </tr>
              ) : null}
              {orders.map((o) => (
                <tr key={o.id} data-testid={`order-${o.id}`}>
                  <td><Ltr>#{fmt.number(o.id)}</Ltr></td>
                  <td>
                    <Ltr>{o.buyerUsername}</Ltr> <span className="muted">({t.roles[o.buyerRole]})</span>
                  </td>
                  <td>{locale === 'fa' ? o.planNameFa : o.planNameEn}</td>
                  <td>{t.orders.kinds[o.kind]}</td>
                  <td className="num">{fmt.money(o.price)}</td>
                  <td>
                    <StatusBadge status={o.status} label={t.orders.statuses[o.status]} />
                    {o.failureReason ? <div className="muted">{o.failureReason}</div> : null}
                  </td>
                  <td>
                    {o.accountId ? (
                      <Link to={`/admin/accounts/${o.accountId}`}>
                        <Ltr>{o.panelUsername}</Ltr>
                      </Link>
                    ) : (
                      <span className="muted">{t.orders.noAccount}</span>
                    )}
                    {o.panelName ? <div className="muted">{o.panelName}</div> : null}
                  </td>
                  <td>{fmt.dateTime(o.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>{t.common.id}</th>
                <th>{t.orders.username}</th>
                <th>{t.orders.buyer}</th>
                <th>{t.orders.panel}</th>
                <th>{t.orders.plan}</th>
                <th>{t.common.status}</th>
                <th>{t.orders.usage}</th>
                <th>{t.orders.expires}</th>
              </tr>
            </thead>
            <tbody>
              {accounts.length === 0 ? (
                <tr>
                  <td colSpan={8} className="muted">
                    {t.common.empty}
                  </td>
                </tr>
              ) : null}
              {accounts.map((a) => (
                <tr key={a.id} data-testid={`account-${a.id}`}>
                  <td><Ltr>#{fmt.number(a.id)}</Ltr></td>
                  <td>
                    <Link to={`/admin/accounts/${a.id}`}>
                      <Ltr>{a.panelUsername}</Ltr>
                    </Link>
                  </td>
                  <td>
                    <Ltr>{a.ownerUsername}</Ltr>
                  </td>
                  <td>
                    <Ltr>{a.panelName}</Ltr>
                  </td>
                  <td>{locale === 'fa' ? a.planNameFa : a.planNameEn}</td>
                  <td>
                    <StatusBadge status={a.status} label={t.orders.accountStatuses[a.status]} />
                    {a.disabledReason ? <div className="muted">{t.orders.reasons[a.disabledReason]}</div> : null}
                  </td>
                  <td>
                    <Usage used={a.dataUsedBytes} limit={a.dataLimitBytes} />
                  </td>
                  <td>{fmt.date(a.expiresAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pagination page={filter.page} hasMore={hasMore} />
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
