import type { LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { countActiveAccounts, countPendingPayments, negativeAgents, panelHealth, todaySales } from '#db/web-dashboard.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Card, Ltr, PageHeader, StatusBadge } from '~/components/page.tsx'
import { requireAdmin } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAdmin(request, context)
  const { db, env } = context
  const [sales, pendingPayments, activeAccounts, negatives, panels] = await Promise.all([
    todaySales(db),
    countPendingPayments(db),
    countActiveAccounts(db),
    negativeAgents(db),
    panelHealth(db),
  ])
  const now = Date.now()
  return {
    now,
    sales,
    pendingPayments,
    activeAccounts,
    negatives: negatives.map((a) => ({ ...a, deadline: new Date(a.negativeSince.getTime() + env.NEGATIVE_CREDIT_GRACE) })),
    panels,
  }
}

export default function AdminDashboard() {
  const { now, sales, pendingPayments, activeAccounts, negatives, panels } = useLoaderData<typeof loader>()
  const { t, fmt, locale } = useI18n()
  return (
    <>
      <PageHeader title={t.dashboard.title} />
      <div className="grid">
        <Card>
          <div className="stat" data-testid="stat-sales">
            <span className="label">{t.dashboard.todaySales}</span>
            <span className="value">{fmt.money(sales.total)}</span>
            <span className="muted">{t.dashboard.todayOrders(fmt.number(sales.count))}</span>
          </div>
        </Card>
        <Card>
          <Link to="/admin/payments" className="stat" style={{ textDecoration: 'none', color: 'inherit' }} data-testid="stat-pending">
            <span className="label">{t.dashboard.pendingPayments}</span>
            <span className={`value ${pendingPayments > 0 ? 'negative' : ''}`}>{fmt.number(pendingPayments)}</span>
          </Link>
        </Card>
        <Card>
          <div className="stat" data-testid="stat-accounts">
            <span className="label">{t.dashboard.activeAccounts}</span>
            <span className="value">{fmt.number(activeAccounts)}</span>
          </div>
        </Card>
      </div>

      <Card title={t.dashboard.negativeAgents}>
        {negatives.length === 0 ? (
          <p className="muted">{t.dashboard.noNegativeAgents}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>{t.orders.agent}</th>
                  <th className="num">{t.dashboard.usable}</th>
                  <th>{t.dashboard.since}</th>
                  <th>{t.dashboard.timeLeft}</th>
                </tr>
              </thead>
              <tbody>
                {negatives.map((a) => {
                  const left = new Date(a.deadline).getTime() - now
                  return (
                    <tr key={a.userId} className={left <= 0 ? 'row-stuck' : undefined}>
                      <td>
                        <Link to={`/admin/agents/${a.userId}`}>
                          {a.firstName} {a.lastName}
                        </Link>{' '}
                        <span className="muted">
                          (<Ltr>{a.username}</Ltr>)
                        </span>
                      </td>
                      <td className="num negative">{fmt.money(a.usable)}</td>
                      <td>{fmt.dateTime(a.negativeSince)}</td>
                      <td data-testid="time-left">{left <= 0 ? t.dashboard.overdue : fmt.duration(left)}</td>
                    </tr>
                  )
                })}
              </tbody>
            </table>
          </div>
        )}
      </Card>

      <Card title={t.dashboard.panelHealth}>
        {panels.length === 0 ? (
          <p className="muted">{t.dashboard.noPanels}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>{t.common.name}</th>
                  <th>{t.panels.location}</th>
                  <th>{t.panels.health}</th>
                  <th className="num">{t.dashboard.activeAccounts}</th>
                  <th>{t.dashboard.lastCheck}</th>
                </tr>
              </thead>
              <tbody>
                {panels.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <Ltr>{p.name}</Ltr> {p.active ? null : <StatusBadge status="disabled" label={t.common.inactive} />}
                    </td>
                    <td>{locale === 'fa' ? p.locationNameFa : p.locationNameEn}</td>
                    <td>
                      <StatusBadge status={p.healthStatus} label={t.panels.healthStatuses[p.healthStatus]} />
                      {p.healthDetail ? <div className="muted">{p.healthDetail}</div> : null}
                    </td>
                    <td className="num">
                      {fmt.number(p.activeAccounts)} / {fmt.number(p.capacity)}
                    </td>
                    <td>{p.healthCheckedAt ? fmt.dateTime(p.healthCheckedAt) : t.common.never}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
