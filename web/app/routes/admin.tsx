import type { LoaderFunctionArgs } from '@remix-run/node'
import { Outlet, useLoaderData } from '@remix-run/react'
import { countPendingPayments } from '#db/web-dashboard.ts'
import { ConsoleNav } from '~/components/console-nav.tsx'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { requireAdmin } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAdmin(request, context)
  return { pendingPayments: await countPendingPayments(context.db) }
}

/** The admin console. Every admin page checks the role itself too: loaders and actions run independently. */
export default function AdminLayout() {
  const { pendingPayments } = useLoaderData<typeof loader>()
  const { t } = useI18n()
  return (
    <div className="console">
      <ConsoleNav
        items={[
          { to: '/admin', label: t.nav.dashboard, end: true },
          { to: '/admin/payments', label: t.nav.payments, count: pendingPayments },
          { to: '/admin/orders', label: t.nav.orders },
          { to: '/admin/agents', label: t.nav.agents },
          { to: '/admin/plans', label: t.nav.plans },
          { to: '/admin/locations', label: t.nav.locations },
          { to: '/admin/panels', label: t.nav.panels },
          { to: '/admin/payment-methods', label: t.nav.paymentMethods },
          { to: '/admin/workflows', label: t.nav.workflows },
          { to: '/admin/audit', label: t.nav.audit },
          { to: '/admin/security', label: t.nav.security },
          { to: '/settings', label: t.nav.settings },
        ]}
      />
      <div>
        <Outlet />
      </div>
    </div>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
