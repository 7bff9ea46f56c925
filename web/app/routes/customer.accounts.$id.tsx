import type { LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { AccountDetails } from '~/components/account-details.tsx'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { PageHeader } from '~/components/page.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { accountPage } from '~/utils/shop.server.ts'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'customer')
  const { account, qr, refund } = await accountPage(context, user.id, params.id)
  return { account, qr, refund }
}

export default function CustomerAccount() {
  const { account, qr, refund } = useLoaderData<typeof loader>()
  const { t } = useI18n()
  return (
    <>
      <PageHeader title={t.shop.accounts.customerTitle}>
        <Link to="/customer/accounts" className="btn">
          {t.common.back}
        </Link>
        {account.status !== 'deleted' ? (
          <Link to={`/customer/buy?account=${account.id}`} className="btn btn-primary">
            {t.shop.accounts.renew}
          </Link>
        ) : null}
      </PageHeader>
      <AccountDetails account={account} qr={qr} refund={refund} />
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
