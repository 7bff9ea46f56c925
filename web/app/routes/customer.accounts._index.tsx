import type { LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { listAccountsOfUser } from '#db/shop.ts'
import { parsePage } from '#domain/ids.ts'
import { AccountStatus, DaysLeft } from '~/components/account-row.tsx'
import { CopyButton } from '~/components/copy-button.tsx'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Card, Ltr, PageHeader } from '~/components/page.tsx'
import { Pagination } from '~/components/pagination.tsx'
import { QrCode } from '~/components/qr-code.tsx'
import { UsageBar } from '~/components/usage-bar.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { qrDataUrl } from '~/utils/qr.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'customer')
  const page = parsePage(new URL(request.url).searchParams.get('page'))
  const accounts = await listAccountsOfUser(context.db, user.id, { page, pageSize: 10 })
  // A customer has a few accounts, each shown with its QR code.
  const rows = await Promise.all(accounts.rows.map(async (a) => ({ ...a, qr: a.subscriptionUrl ? await qrDataUrl(a.subscriptionUrl) : null })))
  return { accounts: { ...accounts, rows } }
}

export default function CustomerAccounts() {
  const { accounts } = useLoaderData<typeof loader>()
  const { t, locale } = useI18n()
  const s = t.shop
  return (
    <>
      <PageHeader title={s.accounts.customerTitle}>
        <Link to="/customer/buy" className="btn btn-primary">
          {s.nav.buy}
        </Link>
      </PageHeader>
      {accounts.rows.length === 0 ? <p className="muted">{s.accounts.none}</p> : null}
      <div className="grid-2">
        {accounts.rows.map((a) => (
          <Card key={a.id} className="account-card">
            <h2>
              <Link to={`/customer/accounts/${a.id}`}>{locale === 'fa' ? a.planNameFa : a.planNameEn}</Link>{' '}
              <AccountStatus status={a.status} reason={a.disabledReason} />
            </h2>
            <p className="muted">
              <Ltr>{a.panelUsername}</Ltr> · {locale === 'fa' ? a.locationNameFa : a.locationNameEn}
            </p>
            <UsageBar usedBytes={a.dataUsedBytes} limitBytes={a.dataLimitBytes} />
            <p>
              <DaysLeft expiresAt={a.expiresAt} />
            </p>
            {a.subscriptionUrl ? (
              <details>
                <summary>{s.accounts.showLink}</summary>
                <p>
                  <Ltr>
                    <code className="mono">{a.subscriptionUrl}</code>
                  </Ltr>{' '}
                  <CopyButton text={a.subscriptionUrl} />
                </p>
                {a.qr ? <QrCode src={a.qr} label={s.accounts.qrLabel} /> : null}
              </details>
            ) : null}
            <p>
              <Link to={`/customer/buy?account=${a.id}`} className="btn btn-small">
                {s.accounts.renew}
              </Link>
            </p>
          </Card>
        ))}
      </div>
      <Pagination page={accounts.page} hasMore={accounts.hasMore} />
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
