import type { LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { getWallet } from '#db/ledger.ts'
import { countAccountsByStatus, listOpenOrdersOfUser } from '#db/shop.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { OpenOrdersCard } from '~/components/open-orders-card.tsx'
import { Notice } from '~/components/forms.tsx'
import { Card, PageHeader } from '~/components/page.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { creditRuleFor } from '~/utils/shop.server.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const wallet = await getWallet(context.db, user.id)
  const [rule, accounts, openOrders] = await Promise.all([creditRuleFor(context, wallet), countAccountsByStatus(context.db, user.id), listOpenOrdersOfUser(context.db, user.id)])
  return {
    name: user.displayName ?? user.username,
    usable: wallet.usable,
    confirmed: wallet.confirmed,
    pending: wallet.pending,
    rule,
    accounts,
    openOrders,
  }
}

export default function AgentHome() {
  const { name, usable, confirmed, pending, rule, accounts, openOrders } = useLoaderData<typeof loader>()
  const { t, fmt } = useI18n()
  const s = t.shop
  return (
    <>
      <PageHeader title={t.home.agentTitle}>
        <Link to="/agent/users/new" className="btn btn-primary">
          {s.nav.newUser}
        </Link>
        <Link to="/agent/wallet" className="btn">
          {s.wallet.topUp}
        </Link>
      </PageHeader>
      <p>{t.home.welcome(name)}</p>
      {usable < 0n ? (
        <div data-testid="negative-credit-banner">
          <Notice kind="error">
            <strong>{s.dashboard.negativeTitle(fmt.money(usable))}</strong>
            <br />
            {rule.phase === 'disabled'
              ? s.dashboard.ruleRan(fmt.number(rule.disabledCount))
              : rule.firesAt
                ? s.dashboard.ruleFiresAt(fmt.dateTime(rule.firesAt), fmt.relative(rule.firesAt))
                : s.dashboard.ruleSoon}
            <br />
            {s.dashboard.ordersBlocked(fmt.money(-usable))}
          </Notice>
        </div>
      ) : null}
      <div className="grid">
        <Card>
          <div className="stat">
            <span className="label">{s.dashboard.usable}</span>
            <span className={`value ${usable < 0n ? 'negative' : ''}`} data-testid="usable-credit">
              {fmt.money(usable)}
            </span>
            <small className="muted">{s.dashboard.usableHint}</small>
          </div>
        </Card>
        <Card>
          <div className="stat">
            <span className="label">{t.agents.confirmed}</span>
            <span className="value">{fmt.money(confirmed)}</span>
          </div>
        </Card>
        <Card>
          <div className="stat">
            <span className="label">{t.agents.pending}</span>
            <span className="value" data-testid="pending-credit">
              {fmt.money(pending)}
            </span>
          </div>
        </Card>
        <Card>
          <div className="stat">
            <span className="label">{t.dashboard.activeAccounts}</span>
            <span className="value">{fmt.number(accounts.active)}</span>
            <small className="muted">
              <Link to="/agent/users">{s.dashboard.allUsers}</Link>
            </small>
          </div>
        </Card>
      </div>
      <OpenOrdersCard orders={openOrders} orderPath={(id) => `/agent/orders/${id}`} />
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
