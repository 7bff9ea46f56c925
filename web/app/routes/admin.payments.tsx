import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { decidePayment } from '#db/payments.ts'
import { usernameOf } from '#db/users.ts'
import { getQueuePayment, listDecidedPayments, listPendingPayments, type QueuePayment } from '#db/web-payments.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, Ltr, PageHeader, StatusBadge } from '~/components/page.tsx'
import { adminAction } from '~/utils/admin.server.ts'
import { audit } from '~/utils/audit.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { f, parseForm } from '~/utils/forms.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { withTemporal } from '~/utils/workflows.server.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAdmin(request, context)
  const [pending, decided] = await Promise.all([listPendingPayments(context.db), listDecidedPayments(context.db)])
  return { now: Date.now(), pending, decided, expiryMs: context.env.PAYMENT_EXPIRY }
}

const DecisionSchema = z
  .object({
    intent: z.enum(['approve', 'reject']),
    paymentId: f.id(),
    note: z.string().trim().max(500, 'tooLong').superRefine(f.textCheck('singleLine')).optional(),
  })
  .refine((v) => v.intent === 'approve' || (v.note && v.note.length > 0), { path: ['note'], message: 'noteRequired' })

type Result = { ok: boolean; paymentId?: number; message: string; kind: 'success' | 'error' | 'warning' | 'info'; errors?: Record<string, string> }

/**
 * Approve or reject: the decision is an update of the payment's workflow (`payment-<id>`), which moves the
 * ledger, tells the payer and resumes a waiting order. The answer shown is the workflow's own: approved with the
 * payer's new balance, or refused (already decided by whom and when, expired, paid online), never an error page.
 */
export async function action({ request, context }: ActionFunctionArgs) {
  const { user, form, t, fmt } = await adminAction(request, context)
  const parsed = parseForm(DecisionSchema, form, t)
  if (!parsed.ok) {
    const paymentId = Number(form.get('paymentId')) || undefined
    return data<Result>({ ok: false, paymentId, kind: 'error', message: Object.values(parsed.errors)[0] ?? t.errors.invalid, errors: parsed.errors }, { status: 400 })
  }
  const { intent, paymentId, note } = parsed.data
  const payment = await getQueuePayment(context.db, paymentId)
  if (!payment) throw new Response('Not found', { status: 404 })
  const statusLabel = (s: QueuePayment['status']) => t.payments.statuses[s]
  if (payment.methodKind === 'ZARINPAL') return data<Result>({ ok: false, paymentId, kind: 'info', message: t.payments.paidOnline })
  if (payment.status !== 'PENDING') {
    if (payment.status === 'EXPIRED') return data<Result>({ ok: false, paymentId, kind: 'info', message: t.payments.expired })
    const decidedAt = payment.decidedAt ? fmt.dateTime(payment.decidedAt) : null
    return data<Result>({ ok: false, paymentId, kind: 'info', message: t.payments.alreadyDecided(statusLabel(payment.status), payment.decidedByUsername, decidedAt) })
  }

  const outcome = await withTemporal(context, (client) =>
    decidePayment(client, paymentId, { decision: intent, adminId: user.id, note: note || null }, { waitMs: 8_000 }),
  )
  if (!outcome.ok) {
    const message = outcome.reason === 'not_configured' ? t.errors.temporalNotConfigured : t.errors.temporalUnavailable
    return data<Result>({ ok: false, paymentId, kind: 'error', message }, { status: 503 })
  }
  const result = outcome.value
  await audit(request, context, user.id, `payment.${intent}`, { type: 'payment', id: paymentId }, {
    note: note || null,
    answer: result.ok ? (result.decided ? result.decided.outcome.toUpperCase() : 'PENDING') : result.reason,
    amount: payment.amount.toString(),
    payerUserId: payment.userId,
  })
  if (result.ok) {
    if (!result.decided) return data<Result>({ ok: true, paymentId, kind: 'info', message: t.payments.stillPending })
    if (result.decided.outcome === 'approved') return data<Result>({ ok: true, paymentId, kind: 'success', message: t.payments.approved(fmt.money(result.decided.balanceAfter)) })
    return data<Result>({ ok: true, paymentId, kind: 'success', message: t.payments.rejected })
  }
  const refusal = result.refusal
  if (refusal?.reason === 'paid_online') return data<Result>({ ok: false, paymentId, kind: 'info', message: t.payments.paidOnline })
  if (refusal?.reason === 'expired') return data<Result>({ ok: false, paymentId, kind: 'info', message: t.payments.expired })
  if (refusal?.reason === 'already_decided') {
    const by = refusal.decidedBy === null ? null : ((await usernameOf(context.db, refusal.decidedBy)) ?? null)
    const status = statusLabel(refusal.decision === 'approved' ? 'APPROVED' : 'REJECTED')
    return data<Result>({ ok: false, paymentId, kind: 'info', message: t.payments.alreadyDecided(status, by, refusal.decidedAt ? fmt.dateTime(refusal.decidedAt) : null) })
  }
  if (result.reason === 'no_answer') return data<Result>({ ok: false, paymentId, kind: 'warning', message: t.payments.noAnswer }, { status: 503 })
  return data<Result>({ ok: false, paymentId, kind: 'warning', message: t.payments.noWorkflow })
}

function ReceiptPreview({ payment }: { payment: QueuePayment }) {
  const { t } = useI18n()
  if (!payment.hasReceipt) return <div className="receipt-preview muted">{t.payments.noReceipt}</div>
  const href = `/receipts/${payment.id}`
  return (
    <a href={href} target="_blank" rel="noreferrer" title={t.payments.openReceipt}>
      {payment.receiptMime === 'application/pdf' ? (
        <span className="receipt-preview btn">PDF · {t.payments.openReceipt}</span>
      ) : (
        <img className="receipt-preview" src={href} alt={`${t.payments.receipt} #${payment.id}`} loading="lazy" />
      )}
    </a>
  )
}

export default function PaymentsQueue() {
  const { now, pending, decided, expiryMs } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const { t, fmt, locale } = useI18n()
  const methodTitle = (p: QueuePayment) => (locale === 'fa' ? p.methodTitleFa : p.methodTitleEn)
  return (
    <>
      <PageHeader title={t.payments.title} />
      {actionData ? (
        <div data-testid="decision-result">
          <Notice kind={actionData.kind}>
            {actionData.paymentId ? <Ltr>#{fmt.number(actionData.paymentId)}</Ltr> : null}
            {actionData.paymentId ? ' — ' : ''}
            {actionData.message}
          </Notice>
        </div>
      ) : null}
      <h2>{t.payments.pendingTitle}</h2>
      {pending.length === 0 ? <p className="muted">{t.payments.empty}</p> : null}
      {pending.map((p) => {
        const age = now - new Date(p.createdAt).getTime()
        const errors = actionData?.paymentId === p.id ? (actionData.errors ?? {}) : {}
        return (
          <Card key={p.id} className="queue-item-card">
            <div className="queue-item" data-testid={`payment-${p.id}`}>
              <ReceiptPreview payment={p} />
              <div>
                <dl className="kv">
                  <dt>{t.common.id}</dt>
                  <dd><Ltr>#{fmt.number(p.id)}</Ltr></dd>
                  <dt>{t.common.amount}</dt>
                  <dd>
                    <strong>{fmt.money(p.amount)}</strong>
                  </dd>
                  <dt>{t.payments.payer}</dt>
                  <dd>
                    {p.payerDisplayName ?? ''} <Ltr>{p.payerUsername}</Ltr> <span className="muted">({t.roles[p.payerRole]})</span>
                  </dd>
                  <dt>{t.payments.method}</dt>
                  <dd>{methodTitle(p)}</dd>
                  <dt>{t.payments.age}</dt>
                  <dd suppressHydrationWarning title={fmt.dateTime(p.createdAt)}>
                    {fmt.duration(age)}
                    {age > expiryMs * 0.75 ? <span className="badge badge-pending"> ⏳ </span> : null}
                  </dd>
                  <dt>{t.payments.order}</dt>
                  <dd>{p.orderId ? <Ltr>#{fmt.number(p.orderId)}</Ltr> : t.payments.topUp}</dd>
                  {p.note ? (
                    <>
                      <dt>{t.common.note}</dt>
                      <dd>{p.note}</dd>
                    </>
                  ) : null}
                </dl>
                <div className="grid-2">
                  <PostForm>
                    <input type="hidden" name="paymentId" value={p.id} />
                    <Field label={t.payments.approveNote} name="note" id={`approve-note-${p.id}`} />
                    <div className="form-actions">
                      <SubmitButton value="approve" className="btn btn-success">
                        {t.payments.approve}
                      </SubmitButton>
                    </div>
                  </PostForm>
                  <PostForm>
                    <input type="hidden" name="paymentId" value={p.id} />
                    <Field label={t.payments.rejectNote} name="note" id={`reject-note-${p.id}`} required error={errors.note} />
                    <div className="form-actions">
                      <SubmitButton value="reject" className="btn btn-danger">
                        {t.payments.reject}
                      </SubmitButton>
                    </div>
                  </PostForm>
                </div>
              </div>
            </div>
          </Card>
        )
      })}

      <h2>{t.payments.recentTitle}</h2>
      {decided.length === 0 ? (
        <p className="muted">{t.common.empty}</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>{t.common.id}</th>
                <th>{t.payments.payer}</th>
                <th className="num">{t.common.amount}</th>
                <th>{t.payments.method}</th>
                <th>{t.common.status}</th>
                <th>{t.payments.decidedBy}</th>
                <th>{t.common.date}</th>
                <th>{t.payments.receipt}</th>
              </tr>
            </thead>
            <tbody>
              {decided.map((p) => (
                <tr key={p.id} data-testid={`decided-${p.id}`}>
                  <td><Ltr>#{fmt.number(p.id)}</Ltr></td>
                  <td>
                    <Ltr>{p.payerUsername}</Ltr>
                  </td>
                  <td className="num">{fmt.money(p.amount)}</td>
                  <td>{methodTitle(p)}</td>
                  <td>
                    <StatusBadge status={p.status} label={t.payments.statuses[p.status]} />
                    {p.note ? <div className="muted">{p.note}</div> : null}
                  </td>
                  <td>{p.decidedByUsername ? <Ltr>{p.decidedByUsername}</Ltr> : '—'}</td>
                  <td>{fmt.dateTime(p.decidedAt)}</td>
                  <td>
                    {p.hasReceipt ? (
                      <a href={`/receipts/${p.id}`} target="_blank" rel="noreferrer">
                        {t.payments.openReceipt}
                      </a>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
