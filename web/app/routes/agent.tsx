import type { LoaderFunctionArgs } from '@remix-run/node'
import { Outlet } from '@remix-run/react'
import { ConsoleNav } from '~/components/console-nav.tsx'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireRole(request, context, 'agent')
  return null
}

/** The agent console; its pages each check the role again (loaders run in parallel). */
export default function AgentLayout() {
  const { t } = useI18n()
  return (
    <div className="console">
      <ConsoleNav
        items={[
          { to: '/agent', label: t.nav.dashboard, end: true },
          { to: '/agent/users/new', label: t.shop.nav.newUser },
          { to: '/agent/users', label: t.shop.nav.users, end: true },
          { to: '/agent/wallet', label: t.shop.nav.wallet },
          { to: '/agent/api-tokens', label: t.shop.nav.apiTokens },
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
