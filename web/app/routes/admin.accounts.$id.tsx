import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { previewRefund, RefundRefusedError, requestRefund } from '#db/accounts.ts'
import { getPanelById } from '#db/panels.ts'
import { getAccountDetail, markAccountAdminState } from '#db/web-orders.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Checkbox, Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, Ltr, PageHeader, StatusBadge } from '~/components/page.tsx'
import { Usage } from '~/components/usage.tsx'
import { adminAction, idParam } from '~/utils/admin.server.ts'
import { audit } from '~/utils/audit.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { f, parseForm } from '~/utils/forms.server.ts'
import { getErrorMessage } from '~/utils/misc.ts'
import { withPanel } from '~/utils/panels.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { withTemporal } from '~/utils/workflows.server.ts'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const admin = await requireAdmin(request, context)
  const id = idParam(params.id)
  const account = await getAccountDetail(context.db, id)
  if (!account) throw new Response('Not found', { status: 404 })
  let quote: { amount: bigint; rule: string } | null = null
  try {
    const q = await previewRefund(context.db, { accountId: id, requestedBy: admin.id })
    quote = { amount: q.quote.amount, rule: q.quote.rule }
  } catch (error) {
    if (!(error instanceof RefundRefusedError)) throw error
  }
  let live: { usedBytes: bigint; dataLimitBytes: bigint; status: string; expiresAt: Date | null } | null = null
  let liveError: string | null = null
  const panel = await getPanelById(context.db, account.panelId)
  if (panel && account.status !== 'deleted') {
    try {
      const remote = await withPanel(context, panel, (adapter) => adapter.getAccount(account.panelUsername), 4_000)
      if (remote) live = { usedBytes: BigInt(remote.usedBytes), dataLimitBytes: BigInt(remote.dataLimitBytes), status: remote.status, expiresAt: remote.expiresAt }
    } catch (error) {
      liveError = getErrorMessage(error)
    }
  }
  return { account, quote, live, liveError }
}

type Result = { ok: boolean; message: string }

const RefundFormSchema = z.object({ reason: f.text(300, 'singleLine') })

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { user, form, intent, t } = await adminAction(request, context)
  const id = idParam(params.id)
  const account = await getAccountDetail(context.db, id)
  if (!account) throw new Response('Not found', { status: 404 })

  if (intent === 'disable' || intent === 'enable') {
    const panel = await getPanelById(context.db, account.panelId)
    if (!panel) throw new Response('Not found', { status: 404 })
    try {
      await withPanel(context, panel, (adapter) => (intent === 'disable' ? adapter.disable(account.panelUsername) : adapter.enable(account.panelUsername)))
    } catch (error) {
      await audit(request, context, user.id, `account.${intent}_failed`, { type: 'account', id }, { error: getErrorMessage(error) })
      return data<Result>({ ok: false, message: t.panels.testFailed(getErrorMessage(error)) }, { status: 502 })
    }
    await markAccountAdminState(context.db, id, intent === 'disable')
    await audit(request, context, user.id, `account.${intent}`, { type: 'account', id })
    return data<Result>({ ok: true, message: intent === 'disable' ? t.orders.disabledOk : t.orders.enabledOk })
  }
  if (intent === 'delete') {
    const parsed = parseForm(RefundFormSchema, form, t)
    if (form.get('confirm') !== 'on' || !parsed.ok) return data<Result>({ ok: false, message: parsed.ok ? t.errors.noteRequired : (parsed.errors.reason ?? t.errors.noteRequired) }, { status: 400 })
    const { reason } = parsed.data
    const outcome = await withTemporal(context, async (client) => {
      try {
        return await requestRefund(context.db, client, { accountId: id, requestedBy: user.id, reason })
      } catch (error) {
        if (error instanceof RefundRefusedError) return error
        throw error
      }
    })
    if (!outcome.ok) return data<Result>({ ok: false, message: outcome.reason === 'not_configured' ? t.errors.temporalNotConfigured : t.errors.temporalUnavailable }, { status: 503 })
    if (outcome.value instanceof RefundRefusedError) return data<Result>({ ok: false, message: outcome.value.message }, { status: 400 })
    await audit(request, context, user.id, 'account.refund_requested', { type: 'account', id }, {
      reason,
      quote: outcome.value.quote.quote.amount.toString(),
      workflowId: outcome.value.workflowId,
    })
    return data<Result>({ ok: true, message: t.orders.deleteStarted })
  }
  throw new Response(`Unknown intent ${intent}`, { status: 400 })
}

export default function AccountPage() {
  const { account, quote, live, liveError } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const { t, fmt, locale } = useI18n()
  return (
    <>
      <PageHeader title={t.orders.accountTitle(account.panelUsername)}>
        <StatusBadge status={account.status} label={t.orders.accountStatuses[account.status]} />
      </PageHeader>
      {actionData ? <Notice kind={actionData.ok ? 'success' : 'error'}>{actionData.message}</Notice> : null}
      <div className="grid-2">
        <Card title={t.common.details}>
          <dl className="kv">
            <dt>{t.orders.username}</dt>
            <dd>
              <Ltr>{account.panelUsername}</Ltr>
            </dd>
            <dt>{t.orders.buyer}</dt>
            <dd>
              <Ltr>{account.ownerUsername}</Ltr> <span className="muted">({t.roles[account.ownerRole]})</span>
            </dd>
            <dt>{t.orders.panel}</dt>
            <dd>
              <Ltr>{account.panelName}</Ltr>
            </dd>
            <dt>{t.orders.plan}</dt>
            <dd>{locale === 'fa' ? account.planNameFa : account.planNameEn}</dd>
            <dt>{t.orders.expires}</dt>
            <dd>{fmt.dateTime(account.expiresAt)}</dd>
            <dt>{t.orders.usage}</dt>
            <dd>
              <Usage used={account.dataUsedBytes} limit={account.dataLimitBytes} />
              {account.usageSyncedAt ? <small className="muted">{fmt.dateTime(account.usageSyncedAt)}</small> : null}
            </dd>
            {account.disabledReason ? (
              <>
                <dt>{t.orders.disabledReason}</dt>
                <dd>{t.orders.reasons[account.disabledReason]}</dd>
              </>
            ) : null}
            {account.subscriptionUrl ? (
              <>
                <dt>{t.orders.subscription}</dt>
                <dd>
                  <Ltr>
                    <code className="mono">{account.subscriptionUrl}</code>
                  </Ltr>
                </dd>
              </>
            ) : null}
          </dl>
        </Card>
        <Card title={t.orders.liveUsage}>
          {live ? (
            <dl className="kv" data-testid="live-usage">
              <dt>{t.orders.usage}</dt>
              <dd>
                <Usage used={live.usedBytes} limit={live.dataLimitBytes} />
              </dd>
              <dt>{t.common.status}</dt>
              <dd>
                <Ltr>{live.status}</Ltr>
              </dd>
              <dt>{t.orders.expires}</dt>
              <dd>{fmt.dateTime(live.expiresAt)}</dd>
            </dl>
          ) : (
            <p className="muted" data-testid="live-usage-unavailable">
              {t.orders.liveUsageUnavailable}
              {liveError ? <small className="hint"> ({liveError})</small> : null}
            </p>
          )}
        </Card>
      </div>

      {account.status !== 'deleted' ? (
        <div className="grid-2">
          <Card title={t.common.actions}>
            <PostForm className="inline-form">
              {account.status === 'active' ? (
                <SubmitButton value="disable" className="btn btn-danger">
                  {t.common.disable}
                </SubmitButton>
              ) : null}
              {account.status === 'disabled' && account.disabledReason === 'admin' ? (
                <SubmitButton value="enable" className="btn btn-success">
                  {t.common.enable}
                </SubmitButton>
              ) : null}
            </PostForm>
          </Card>
          <Card title={t.orders.refundQuote}>
            <p data-testid="refund-quote">{quote ? t.orders.refundQuoteText(fmt.money(quote.amount)) : t.orders.refundQuoteUnavailable}</p>
            <PostForm>
              <Field label={t.common.note} name="reason" required />
              <Checkbox label={t.orders.deleteConfirm} name="confirm" />
              <div className="form-actions">
                <SubmitButton value="delete" className="btn btn-danger">
                  {t.common.delete}
                </SubmitButton>
              </div>
            </PostForm>
          </Card>
        </div>
      ) : null}

      <Card title={t.orders.ordersTab}>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>{t.common.id}</th>
                <th>{t.orders.kind}</th>
                <th>{t.common.status}</th>
                <th className="num">{t.orders.price}</th>
                <th>{t.orders.workflow}</th>
                <th>{t.common.created}</th>
              </tr>
            </thead>
            <tbody>
              {account.orders.map((o) => (
                <tr key={o.id}>
                  <td><Ltr>#{fmt.number(o.id)}</Ltr></td>
                  <td>{t.orders.kinds[o.kind]}</td>
                  <td>
                    <StatusBadge status={o.status} label={t.orders.statuses[o.status]} />
                  </td>
                  <td className="num">{fmt.money(o.price)}</td>
                  <td>
                    {o.workflowId ? (
                      <Link to={`/admin/workflows?id=${encodeURIComponent(o.workflowId)}`}>
                        <Ltr>{o.workflowId}</Ltr>
                      </Link>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>{fmt.dateTime(o.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
