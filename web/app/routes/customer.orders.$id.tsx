import type { LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData, useSearchParams } from '@remix-run/react'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { OrderView } from '~/components/order-view.tsx'
import { PageHeader } from '~/components/page.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { orderPage } from '~/utils/shop.server.ts'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'customer')
  return orderPage(context, user.id, params.id)
}

export default function CustomerOrder() {
  const { order, status, qr, payment } = useLoaderData<typeof loader>()
  const [params] = useSearchParams()
  const { t } = useI18n()
  const g = t.shop.gateway
  const gateway = params.get('gateway')
  const awaitingGateway = order.payMethod === 'zarinpal' && !status.final && (status.step === 'awaiting_payment' || status.step === 'queued')
  return (
    <>
      <PageHeader title={t.shop.order.heading}>
        <Link to="/customer/accounts" className="btn">
          {t.shop.nav.accounts}
        </Link>
      </PageHeader>
      {gateway ? (
        <Notice kind={gateway === 'verified' ? 'success' : gateway === 'cancelled' ? 'warning' : 'error'}>{(g.outcomes as Record<string, string>)[gateway] ?? gateway}</Notice>
      ) : null}
      <OrderView order={order} status={status} qr={qr} accountHref={(id) => `/customer/accounts/${id}`}>
        {payment ? (
          <p>
            <Link to={`/customer/payments/${payment.id}`}>{t.shop.payment.title(String(payment.id))}</Link>
          </p>
        ) : null}
        {awaitingGateway ? (
          <PostForm action="/zarinpal/pay">
            <input type="hidden" name="orderId" value={order.id} />
            <SubmitButton value="pay">{g.payNow}</SubmitButton>
          </PostForm>
        ) : null}
      </OrderView>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
