import type { LoaderFunctionArgs } from '@remix-run/node'
import { Outlet } from '@remix-run/react'
import { ConsoleNav } from '~/components/console-nav.tsx'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireRole(request, context, 'customer')
  return null
}

/** The customer pages; its pages each check the role again (loaders run in parallel). */
export default function CustomerLayout() {
  const { t } = useI18n()
  return (
    <div className="console">
      <ConsoleNav
        items={[
          { to: '/customer', label: t.nav.dashboard, end: true },
          { to: '/customer/buy', label: t.shop.nav.buy },
          { to: '/customer/accounts', label: t.shop.nav.accounts },
          { to: '/customer/payments', label: t.shop.nav.payments },
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
