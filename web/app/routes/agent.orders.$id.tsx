import type { LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { OrderView } from '~/components/order-view.tsx'
import { PageHeader } from '~/components/page.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { orderPage } from '~/utils/shop.server.ts'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  return orderPage(context, user.id, params.id)
}

export default function AgentOrder() {
  const { order, status, qr } = useLoaderData<typeof loader>()
  const { t } = useI18n()
  return (
    <>
      <PageHeader title={t.shop.order.heading}>
        <Link to="/agent/users/new" className="btn">
          {t.shop.nav.newUser}
        </Link>
      </PageHeader>
      <OrderView order={order} status={status} qr={qr} accountHref={(id) => `/agent/users/${id}`} />
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
