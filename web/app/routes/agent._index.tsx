import type { LoaderFunctionArgs } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { getWallet } from '#db/ledger.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Card, PageHeader } from '~/components/page.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const wallet = await getWallet(context.db, user.id)
  return { name: user.displayName ?? user.username, usable: wallet.usable, confirmed: wallet.confirmed, pending: wallet.pending }
}

export default function AgentHome() {
  const { name, usable, confirmed, pending } = useLoaderData<typeof loader>()
  const { t, fmt } = useI18n()
  return (
    <>
      <PageHeader title={t.home.agentTitle} />
      <p>{t.home.welcome(name)}</p>
      <div className="grid">
        <Card>
          <div className="stat">
            <span className="label">{t.agents.usable}</span>
            <span className={`value ${usable < 0n ? 'negative' : ''}`}>{fmt.money(usable)}</span>
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
            <span className="value">{fmt.money(pending)}</span>
          </div>
        </Card>
      </div>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
