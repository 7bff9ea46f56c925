import { randomUUID } from 'node:crypto'
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Form, Link, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { getWallet } from '#db/ledger.ts'
import { ACCOUNT_FILTERS, getAccountOfUser, listAccountsOfUser, listPlansForBuyer, type AccountFilter } from '#db/shop.ts'
import { parsePage } from '#domain/ids.ts'
import { AccountStatus, DaysLeft } from '~/components/account-row.tsx'
import { CopyButton } from '~/components/copy-button.tsx'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, Ltr, PageHeader } from '~/components/page.tsx'
import { Pagination } from '~/components/pagination.tsx'
import { UsageBar } from '~/components/usage-bar.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { f, parseForm, queryText, readForm } from '~/utils/forms.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { placeOrderForUser, ShopError } from '~/utils/shop.server.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const url = new URL(request.url)
  const statusParam = url.searchParams.get('status') ?? 'all'
  const status: AccountFilter = (ACCOUNT_FILTERS as readonly string[]).includes(statusParam) ? (statusParam as AccountFilter) : 'all'
  const search = queryText(url, 'q', i18nFor(request, context, user).t) ?? ''
  const page = parsePage(url.searchParams.get('page'))
  const accounts = await listAccountsOfUser(context.db, user.id, {
    status,
    search,
    page,
  })
  // One key per view of the list: sending the same bulk form twice renews each account once.
  return { accounts, status, search, bulkKey: randomUUID() }
}

const BulkRenewSchema = z.object({
  accountIds: f.idList().pipe(z.array(z.number()).min(1, 'chooseOne').max(100, 'invalid')),
  bulkKey: z.string({ required_error: 'required' }).uuid('invalid'),
})

type BulkResult = {
  placed: { accountId: number; orderId: number }[]
  refused: { accountId: number; message: string }[]
  error?: string
}

/**
 * Renews the selected accounts, each with its own plan. The whole batch must fit the agent's credit before any
 * order is placed (orders are debited by their workflows, so a batch that only partly fits would fail part-way).
 */
export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const form = await readForm(request, context)
  const { t, fmt } = i18nFor(request, context, user)
  if (form.get('intent') !== 'renew-selected')
    throw new Response(`Unknown intent ${String(form.get('intent'))}`, {
      status: 400,
    })
  const parsed = parseForm(BulkRenewSchema, form, t)
  if (!parsed.ok)
    return data<BulkResult>(
      {
        placed: [],
        refused: [],
        error: parsed.errors.accountIds ?? parsed.errors.bulkKey ?? t.errors.invalid,
      },
      { status: 400 },
    )
  const ids = [...new Set(parsed.data.accountIds)]
  const accounts = await Promise.all(ids.map((id) => getAccountOfUser(context.db, user.id, id)))
  if (accounts.some((a) => !a || a.status === 'deleted')) throw new Response('Not found', { status: 404 })
  const prices = new Map((await listPlansForBuyer(context.db, user.id)).map((p) => [p.id, BigInt(p.price)]))
  const total = accounts.reduce((sum, a) => sum + (prices.get(a!.planId) ?? 0n), 0n)
  const wallet = await getWallet(context.db, user.id)
  if (wallet.usable < 0n)
    return data<BulkResult>(
      {
        placed: [],
        refused: [],
        error: t.shop.errors.negativeCredit(fmt.money(wallet.usable), fmt.money(-wallet.usable)),
      },
      { status: 409 },
    )
  if (wallet.spendable < total)
    return data<BulkResult>(
      {
        placed: [],
        refused: [],
        error: t.shop.accounts.bulkTooExpensive(fmt.money(total), fmt.money(wallet.spendable)),
      },
      { status: 409 },
    )

  const result: BulkResult = { placed: [], refused: [] }
  for (const account of accounts) {
    const a = account!
    try {
      const placed = await placeOrderForUser(
        context,
        {
          userId: user.id,
          planId: a.planId,
          kind: 'renew',
          accountId: a.id,
          payMethod: 'wallet',
          idempotencyKey: `web:${parsed.data.bulkKey}:${a.id}`,
        },
        t,
        fmt,
      )
      result.placed.push({ accountId: a.id, orderId: placed.order.id })
    } catch (error) {
      if (!(error instanceof ShopError)) throw error
      result.refused.push({ accountId: a.id, message: error.message })
    }
  }
  return data<BulkResult>(result, {
    status: result.placed.length > 0 ? 200 : 409,
  })
}

export default function AgentUsers() {
  const { accounts, status, search, bulkKey } = useLoaderData<typeof loader>()
  const bulk = useActionData<typeof action>()
  const { t, fmt, locale } = useI18n()
  const s = t.shop
  return (
    <>
      <PageHeader title={s.accounts.agentTitle}>
        <Link to="/agent/users/new" className="btn btn-primary">
          {s.nav.newUser}
        </Link>
      </PageHeader>
      <Form method="get" className="filters">
        <div className="field">
          <label htmlFor="f-q">{t.common.search}</label>
          <input id="f-q" name="q" defaultValue={search} placeholder={s.accounts.searchPlaceholder} />
        </div>
        <div className="field">
          <label htmlFor="f-status">{t.common.status}</label>
          <select id="f-status" name="status" defaultValue={status}>
            {ACCOUNT_FILTERS.map((f) => (
              <option key={f} value={f}>
                {f === 'all' ? t.common.all : t.orders.accountStatuses[f]}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="btn">
          {t.common.filter}
        </button>
      </Form>
      {bulk?.error ? <Notice kind="error">{bulk.error}</Notice> : null}
      {bulk && !bulk.error ? (
        <div data-testid="bulk-result">
          <Notice kind={bulk.refused.length === 0 ? 'success' : 'warning'}>
            {s.accounts.bulkPlaced(fmt.number(bulk.placed.length))}{' '}
            {bulk.placed.map((p) => (
              <Link key={p.orderId} to={`/agent/orders/${p.orderId}`}>
                #{fmt.number(p.orderId)}{' '}
              </Link>
            ))}
            {bulk.refused.map((r) => (
              <div key={r.accountId}>
                #{fmt.number(r.accountId)}: {r.message}
              </div>
            ))}
          </Notice>
        </div>
      ) : null}
      <Card>
        {accounts.rows.length === 0 ? (
          <p className="muted">{t.common.empty}</p>
        ) : (
          <PostForm>
            <input type="hidden" name="bulkKey" value={bulkKey} />
            <div className="table-wrap">
              <table data-testid="accounts">
                <thead>
                  <tr>
                    <th aria-label={s.accounts.select} />
                    <th>{t.orders.username}</th>
                    <th>{t.orders.plan}</th>
                    <th>{t.common.status}</th>
                    <th>{t.orders.usage}</th>
                    <th>{t.orders.expires}</th>
                    <th>{t.orders.subscription}</th>
                    <th>{t.common.actions}</th>
                  </tr>
                </thead>
                <tbody>
                  {accounts.rows.map((a) => (
                    <tr key={a.id} data-account-id={a.id}>
                      <td>{a.status !== 'deleted' ? <input type="checkbox" name="accountIds" value={a.id} aria-label={s.accounts.selectOne(a.panelUsername)} /> : null}</td>
                      <td>
                        <Link to={`/agent/users/${a.id}`}>
                          <Ltr>{a.panelUsername}</Ltr>
                        </Link>
                        {a.label ? <div className="muted">{a.label}</div> : null}
                      </td>
                      <td>
                        {locale === 'fa' ? a.planNameFa : a.planNameEn}
                        <div className="muted">{locale === 'fa' ? a.locationNameFa : a.locationNameEn}</div>
                      </td>
                      <td>
                        <AccountStatus status={a.status} reason={a.disabledReason} />
                      </td>
                      <td>
                        <UsageBar usedBytes={a.dataUsedBytes} limitBytes={a.dataLimitBytes} />
                      </td>
                      <td>
                        <DaysLeft expiresAt={a.expiresAt} />
                      </td>
                      <td>
                        {a.subscriptionUrl && a.status !== 'deleted' ? (
                          <>
                            <CopyButton text={a.subscriptionUrl} />{' '}
                            <Link to={`/agent/users/${a.id}#link`} className="btn btn-small btn-ghost">
                              {s.accounts.qr}
                            </Link>
                          </>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td className="actions">
                        {a.status !== 'deleted' ? (
                          <>
                            <Link to={`/agent/users/${a.id}#renew`} className="btn btn-small">
                              {s.accounts.renew}
                            </Link>{' '}
                            <Link to={`/agent/users/${a.id}/delete`} className="btn btn-small btn-danger">
                              {t.common.delete}
                            </Link>
                          </>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="form-actions">
              <SubmitButton value="renew-selected" className="btn">
                {s.accounts.renewSelected}
              </SubmitButton>
            </div>
          </PostForm>
        )}
        <Pagination page={accounts.page} hasMore={accounts.hasMore} />
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
