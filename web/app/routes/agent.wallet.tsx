import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { useActionData, useLoaderData } from '@remix-run/react'
import { getWallet } from '#db/ledger.ts'
import { listLedgerOfUser, listPaymentMethods } from '#db/shop.ts'
import { parsePage } from '#domain/ids.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { LedgerTable } from '~/components/ledger-table.tsx'
import { Card, PageHeader } from '~/components/page.tsx'
import { Pagination } from '~/components/pagination.tsx'
import { TopUpForm } from '~/components/top-up-form.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { RECEIPT_KINDS, readUploadForm, topUpFromForm } from '~/utils/shop.server.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const url = new URL(request.url)
  const page = parsePage(url.searchParams.get('page'))
  const [wallet, ledger, methods] = await Promise.all([getWallet(context.db, user.id), listLedgerOfUser(context.db, user.id, { page }), listPaymentMethods(context.db, RECEIPT_KINDS)])
  const methodId = Number(url.searchParams.get('method'))
  return {
    usable: wallet.usable,
    confirmed: wallet.confirmed,
    pending: wallet.pending,
    ledger,
    methods,
    selectedId: methods.some((m) => m.id === methodId) ? methodId : null,
  }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const { t, fmt } = i18nFor(request, context, user)
  const read = await readUploadForm(request, context, t, fmt)
  const outcome = read.ok ? await topUpFromForm(context, user.id, read.value, t) : read
  if (!outcome.ok) return data({ errors: outcome.errors }, { status: outcome.status })
  return redirect(`/agent/payments/${outcome.value.paymentId}`)
}

export default function AgentWallet() {
  const { usable, confirmed, pending, ledger, methods, selectedId } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const { t, fmt } = useI18n()
  const errors: Record<string, string> = actionData?.errors ?? {}
  return (
    <>
      <PageHeader title={t.shop.wallet.title} />
      <div className="grid">
        <Card>
          <div className="stat">
            <span className="label">{t.shop.dashboard.usable}</span>
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
      <section id="top-up">
        <Card title={t.shop.wallet.topUp}>
          <TopUpForm methods={methods} selectedId={selectedId} basePath="/agent/wallet" errors={errors} formError={errors.form} />
        </Card>
      </section>
      <Card title={t.agents.ledger}>
        <LedgerTable rows={ledger.rows} linkBase="/agent" />
        <Pagination page={ledger.page} hasMore={ledger.hasMore} />
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
