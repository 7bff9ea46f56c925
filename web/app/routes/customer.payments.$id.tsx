import type { LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { PageHeader } from '~/components/page.tsx'
import { PaymentSummary } from '~/components/payment-summary.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { paymentPage } from '~/utils/shop.server.ts'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'customer')
  return paymentPage(context, user.id, params.id)
}

export default function CustomerPayment() {
  const { payment, status } = useLoaderData<typeof loader>()
  const { t } = useI18n()
  return (
    <>
      <PageHeader title={t.shop.payment.heading}>
        <Link to="/customer/payments" className="btn">
          {t.shop.nav.payments}
        </Link>
      </PageHeader>
      <PaymentSummary payment={payment} status={status} linkBase="/customer" />
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
