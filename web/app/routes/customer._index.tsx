import type { LoaderFunctionArgs } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { getWallet } from '#db/ledger.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Card, PageHeader } from '~/components/page.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'customer')
  const wallet = await getWallet(context.db, user.id)
  return { name: user.displayName ?? user.username, balance: wallet.confirmed }
}

export default function CustomerHome() {
  const { name, balance } = useLoaderData<typeof loader>()
  const { t, fmt } = useI18n()
  return (
    <>
      <PageHeader title={t.home.customerTitle} />
      <p>{t.home.welcome(name)}</p>
      <Card>
        <div className="stat">
          <span className="label">{t.home.balance}</span>
          <span className="value">{fmt.money(balance)}</span>
        </div>
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
