import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { listPaymentMethods, listPaymentsOfUser } from '#db/shop.ts'
import { parsePage } from '#domain/ids.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Card, PageHeader, StatusBadge } from '~/components/page.tsx'
import { Pagination } from '~/components/pagination.tsx'
import { TopUpForm } from '~/components/top-up-form.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { RECEIPT_KINDS, readUploadForm, topUpFromForm } from '~/utils/shop.server.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'customer')
  const url = new URL(request.url)
  const page = parsePage(url.searchParams.get('page'))
  const [payments, methods] = await Promise.all([listPaymentsOfUser(context.db, user.id, { page }), listPaymentMethods(context.db, RECEIPT_KINDS)])
  const methodId = Number(url.searchParams.get('method'))
  return { payments, methods, selectedId: methods.some((m) => m.id === methodId) ? methodId : null }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireRole(request, context, 'customer')
  const { t, fmt } = i18nFor(request, context, user)
  const read = await readUploadForm(request, context, t, fmt)
  const outcome = read.ok ? await topUpFromForm(context, user.id, read.value, t) : read
  if (!outcome.ok) return data({ errors: outcome.errors }, { status: outcome.status })
  return redirect(`/customer/payments/${outcome.value.paymentId}`)
}

export default function CustomerPayments() {
  const { payments, methods, selectedId } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const { t, fmt, locale } = useI18n()
  const errors: Record<string, string> = actionData?.errors ?? {}
  return (
    <>
      <PageHeader title={t.shop.payments.title} />
      <Card title={t.shop.payments.history}>
        {payments.rows.length === 0 ? (
          <p className="muted">{t.common.empty}</p>
        ) : (
          <div className="table-wrap">
            <table data-testid="payments">
              <thead>
                <tr>
                  <th>{t.common.id}</th>
                  <th>{t.common.date}</th>
                  <th>{t.common.amount}</th>
                  <th>{t.payments.method}</th>
                  <th>{t.payments.order}</th>
                  <th>{t.common.status}</th>
                </tr>
              </thead>
              <tbody>
                {payments.rows.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <Link to={`/customer/payments/${p.id}`}>#{fmt.number(p.id)}</Link>
                    </td>
                    <td>{fmt.dateTime(p.createdAt)}</td>
                    <td>{fmt.money(p.amount)}</td>
                    <td>{locale === 'fa' ? p.methodTitleFa : p.methodTitleEn}</td>
                    <td>{p.orderId ? <Link to={`/customer/orders/${p.orderId}`}>#{fmt.number(p.orderId)}</Link> : t.payments.topUp}</td>
                    <td>
                      <StatusBadge status={p.status} label={t.payments.statuses[p.status]} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pagination page={payments.page} hasMore={payments.hasMore} />
      </Card>
      <section id="top-up">
        <Card title={t.shop.wallet.topUp}>
          <TopUpForm methods={methods} selectedId={selectedId} basePath="/customer/payments" errors={errors} formError={errors.form} />
        </Card>
      </section>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
