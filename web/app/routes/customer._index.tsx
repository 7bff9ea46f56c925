import type { LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { getWallet } from '#db/ledger.ts'
import { countAccountsByStatus, listOpenOrdersOfUser } from '#db/shop.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { OpenOrdersCard } from '~/components/open-orders-card.tsx'
import { Card, PageHeader } from '~/components/page.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'customer')
  const [wallet, accounts, openOrders] = await Promise.all([getWallet(context.db, user.id), countAccountsByStatus(context.db, user.id), listOpenOrdersOfUser(context.db, user.id)])
  return { name: user.displayName ?? user.username, balance: wallet.confirmed, pending: wallet.pending, accounts, openOrders }
}

export default function CustomerHome() {
  const { name, balance, pending, accounts, openOrders } = useLoaderData<typeof loader>()
  const { t, fmt } = useI18n()
  const s = t.shop
  return (
    <>
      <PageHeader title={t.home.customerTitle}>
        <Link to="/customer/buy" className="btn btn-primary">
          {s.nav.buy}
        </Link>
      </PageHeader>
      <p>{t.home.welcome(name)}</p>
      <div className="grid">
        <Card>
          <div className="stat">
            <span className="label">{t.home.balance}</span>
            <span className="value">{fmt.money(balance)}</span>
            {pending > 0n ? <small className="muted">{s.customer.pendingHint(fmt.money(pending))}</small> : null}
          </div>
        </Card>
        <Card>
          <div className="stat">
            <span className="label">{t.dashboard.activeAccounts}</span>
            <span className="value">{fmt.number(accounts.active)}</span>
            <small className="muted">
              <Link to="/customer/accounts">{s.nav.accounts}</Link>
            </small>
          </div>
        </Card>
      </div>
      <OpenOrdersCard orders={openOrders} orderPath={(id) => `/customer/orders/${id}`} />
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
