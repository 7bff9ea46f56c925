import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client'
import { Form, useActionData, useLoaderData } from '@remix-run/react'
import { cancelOrder, type CancelOrderResult } from '#db/orders.ts'
import { listReconciliations } from '#db/reconcile.ts'
import { usernameOf } from '#db/users.ts'
import { parseId } from '#domain/ids.ts'
import { findTextProblem } from '#domain/text.ts'
import { retryNowSignal } from '#temporal/messages.ts'
import { runReconcileNow } from '#temporal/reconcile.ts'
import { parseWorkflowId } from '#temporal/workflow-ids.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import type { Dictionary, Formatters } from '~/i18n/index.ts'
import { Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, Ltr, PageHeader, StatusBadge } from '~/components/page.tsx'
import { adminAction } from '~/utils/admin.server.ts'
import { audit } from '~/utils/audit.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { queryText } from '~/utils/forms.server.ts'
import { KNOWN_TYPES, listRunningWorkflows, temporalUiLink, toOpsWorkflow, withLiveStatus, type OpsWorkflow } from '~/utils/ops.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { withTemporal } from '~/utils/workflows.server.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const admin = await requireAdmin(request, context)
  const { t } = i18nFor(request, context, admin)
  const url = new URL(request.url)
  const type = KNOWN_TYPES.find((k) => k === url.searchParams.get('type'))
  const single = queryText(url, 'id', t, 1000)
  const { temporal } = context
  const outcome = await withTemporal(context, async (client) => {
    if (single) {
      try {
        return { rows: [await withLiveStatus(client, toOpsWorkflow(await client.workflow.getHandle(single).describe()))], truncated: false }
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { rows: [] as OpsWorkflow[], truncated: false }
        throw error
      }
    }
    return listRunningWorkflows(client, { type })
  })
  const rows = outcome.ok ? outcome.value.rows : []
  // From the audit log, so it shows even while Temporal is away.
  const reconciled = await listReconciliations(context.db, { limit: 20 })
  return {
    reconciled,
    type: type ?? '',
    single: single ?? '',
    types: KNOWN_TYPES,
    unavailable: outcome.ok ? null : outcome.reason === 'not_configured' ? t.errors.temporalNotConfigured : t.errors.temporalUnavailable,
    truncated: outcome.ok ? outcome.value.truncated : false,
    rows: rows.map((r) => ({ ...r, uiLink: temporalUiLink(temporal.uiUrl, temporal.namespace, r.workflowId, r.runId) })),
    uiHome: temporal.uiUrl ?? null,
  }
}

type Result = { ok: boolean; message: string; errors?: Record<string, string>; workflowId?: string }

/** The workflow's answer to cancel-with-refund, in the admin's language. */
async function cancelAnswer(context: ActionFunctionArgs['context'], result: CancelOrderResult, t: Dictionary, fmt: Formatters): Promise<string> {
  if (result.ok) {
    if (!result.cancelled) return t.workflows.cancelAccepted
    return result.cancelled.refunded === '0' ? t.workflows.cancelledNothingCharged : t.workflows.cancelled(fmt.money(result.cancelled.refunded))
  }
  const refusal = result.refusal
  if (refusal?.reason === 'already_cancelled') {
    const by = refusal.cancelledBy === null ? null : ((await usernameOf(context.db, refusal.cancelledBy)) ?? null)
    return t.workflows.alreadyCancelled(by, refusal.cancelledAt ? fmt.dateTime(refusal.cancelledAt) : null)
  }
  if (refusal?.reason === 'too_late') return t.workflows.tooLate(t.orders.statuses[refusal.state].toLocaleLowerCase())
  if (result.reason === 'no_answer') return t.workflows.noAnswer
  return t.workflows.notRunning
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { user, form, intent, t, fmt } = await adminAction(request, context)
  if (intent === 'reconcile') {
    const asked = await withTemporal(context, async (client): Promise<Result> => {
      try {
        await runReconcileNow(client)
      } catch (error) {
        if (error instanceof ScheduleNotFoundError) return { ok: false, message: t.workflows.reconcileNoSchedule }
        throw error
      }
      await audit(request, context, user.id, 'workflow.reconcile_now', { type: 'schedule', id: 'reconcile' })
      return { ok: true, message: t.workflows.reconcileRequested }
    })
    if (!asked.ok) return data<Result>({ ok: false, message: t.errors.temporalUnavailable }, { status: 503 })
    return data<Result>(asked.value, { status: asked.value.ok ? 200 : 409 })
  }
  const workflowId = String(form.get('workflowId') ?? '').trim()
  if (!workflowId) throw new Response('workflowId is required', { status: 400 })
  if (workflowId.length > 1000 || findTextProblem(workflowId, 'singleLine')) throw new Response(t.errors.invalid, { status: 400, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
  const parsedId = parseWorkflowId(workflowId)
  const orderId = parsedId?.kind === 'order' ? parseId(parsedId.key) : null
  const isOrder = orderId !== null

  if ((intent === 'retry' || intent === 'cancel') && !isOrder) return data<Result>({ ok: false, message: t.workflows.notOrder, workflowId }, { status: 400 })
  if (intent === 'terminate') {
    const reason = String(form.get('reason') ?? '').trim()
    const errors: Record<string, string> = {}
    if (String(form.get('confirmId') ?? '').trim() !== workflowId) errors.confirmId = t.workflows.confirmMismatch
    const reasonProblem = findTextProblem(reason, 'singleLine')
    if (!reason) errors.reason = t.errors.required
    else if (reasonProblem) errors.reason = t.errors[reasonProblem]
    else if (reason.length > 500) errors.reason = t.errors.tooLong
    if (Object.keys(errors).length > 0) return data<Result>({ ok: false, message: Object.values(errors)[0]!, errors, workflowId }, { status: 400 })
  } else if (intent !== 'retry' && intent !== 'cancel') {
    throw new Response(`Unknown intent ${intent}`, { status: 400 })
  }

  const outcome = await withTemporal(context, async (client): Promise<Result> => {
    const handle = client.workflow.getHandle(workflowId)
    try {
      if (intent === 'retry') {
        await handle.signal(retryNowSignal)
        await audit(request, context, user.id, 'workflow.retry_now', { type: 'workflow', id: workflowId })
        return { ok: true, message: t.workflows.retried, workflowId }
      }
      if (intent === 'cancel') {
        const result = await cancelOrder(context.db, client, orderId!, { reason: `cancelled by admin ${user.username}`, actorUserId: user.id })
        await audit(request, context, user.id, 'workflow.cancel_refund', { type: 'workflow', id: workflowId }, { ok: result.ok, answer: result.ok ? (result.cancelled ? 'cancelled' : 'accepted') : result.reason })
        return { ok: result.ok, message: await cancelAnswer(context, result, t, fmt), workflowId }
      }
      const reason = String(form.get('reason')).trim()
      await handle.terminate(`${reason} (admin ${user.username})`)
      await audit(request, context, user.id, 'workflow.terminate', { type: 'workflow', id: workflowId }, { reason })
      return { ok: true, message: t.workflows.terminated, workflowId }
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return { ok: false, message: t.workflows.notRunning, workflowId }
      throw error
    }
  })
  if (!outcome.ok) return data<Result>({ ok: false, message: t.errors.temporalUnavailable, workflowId }, { status: 503 })
  return data<Result>(outcome.value, { status: outcome.value.ok ? 200 : 409 })
}

export default function Workflows() {
  const { type, single, types, unavailable, truncated, rows, uiHome, reconciled } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const { t, fmt } = useI18n()
  return (
    <>
      <PageHeader title={t.workflows.title}>
        {uiHome ? (
          <a className="btn" href={uiHome} target="_blank" rel="noreferrer">
            {t.workflows.openInTemporal}
          </a>
        ) : null}
      </PageHeader>
      {unavailable ? <Notice kind="warning">{unavailable}</Notice> : null}
      {actionData ? (
        <div data-testid="workflow-result">
          <Notice kind={actionData.ok ? 'success' : 'error'}>
            {actionData.workflowId ? (
              <>
                <Ltr>{actionData.workflowId}</Ltr>:{' '}
              </>
            ) : null}
            {actionData.message}
          </Notice>
        </div>
      ) : null}
      <Card title={t.workflows.reconciledTitle}>
        <p className="muted">{t.workflows.reconciledIntro}</p>
        <PostForm className="inline-form">
          <SubmitButton value="reconcile" className="btn btn-small">
            {t.workflows.reconcileNow}
          </SubmitButton>
        </PostForm>
        {reconciled.length === 0 ? (
          <p className="muted">{t.workflows.reconciledNone}</p>
        ) : (
          <div className="table-wrap">
            <table data-testid="reconciled">
              <thead>
                <tr>
                  <th>{t.workflows.reconciledWhen}</th>
                  <th>{t.workflows.reconciledWhat}</th>
                  <th>{t.workflows.reconciledFound}</th>
                  <th>{t.workflows.reconciledDone}</th>
                  <th>{t.workflows.reconciledDetail}</th>
                </tr>
              </thead>
              <tbody>
                {reconciled.map((r) => (
                  <tr key={r.auditId} data-testid={`reconciled-${r.workflowId}`}>
                    <td>{fmt.dateTime(r.at)}</td>
                    <td>
                      {t.workflows.kinds[r.kind]} #{fmt.number(r.id)} <span className="muted"><Ltr>{r.workflowId}</Ltr></span>
                    </td>
                    <td>{t.workflows.found[r.found as keyof Dictionary['workflows']['found']] ?? r.found}</td>
                    <td>
                      {r.action === 'restarted'
                        ? t.workflows.restarted
                        : t.workflows.settledAs(t.workflows.outcomes[r.outcome as keyof Dictionary['workflows']['outcomes']] ?? String(r.outcome))}
                      {r.refunded !== '0' ? <> — {t.workflows.refundedAmount(fmt.money(r.refunded))}</> : null}
                    </td>
                    <td>
                      <pre className="failure">
                        <Ltr>{r.why}</Ltr>
                      </pre>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Form method="get" className="filters">
        <div className="field">
          <label htmlFor="f-type">{t.workflows.type}</label>
          <select id="f-type" name="type" defaultValue={type}>
            <option value="">{t.workflows.allTypes}</option>
            {types.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-id">{t.workflows.workflowId}</label>
          <input id="f-id" name="id" defaultValue={single} dir="ltr" />
        </div>
        <button type="submit" className="btn btn-primary">
          {t.common.filter}
        </button>
      </Form>
      {!unavailable && rows.length === 0 ? <p className="muted">{t.workflows.none}</p> : null}
      {truncated ? <p className="muted">…</p> : null}
      {rows.map((w) => (
        <Card key={`${w.workflowId}:${w.runId}`} className={w.stuck ? 'row-stuck' : undefined}>
          <div data-testid={`workflow-${w.workflowId}`}>
            <div className="page-header">
              <h2>
                <Ltr>{w.workflowId}</Ltr>
              </h2>
              <span className="badge">{w.type}</span>
              {w.stuck ? <StatusBadge status="stuck" label={t.workflows.stuck} /> : <StatusBadge status="active" label={t.workflows.healthy} />}
              {w.status !== 'RUNNING' ? <span className="badge">{w.status}</span> : null}
              <div className="page-actions">
                {w.uiLink ? (
                  <a className="btn btn-small" href={w.uiLink} target="_blank" rel="noreferrer">
                    {t.workflows.openInTemporal}
                  </a>
                ) : null}
              </div>
            </div>
            <p className="muted">
              {t.workflows.started}: {fmt.dateTime(w.startTime)}
            </p>
            {w.live ? (
              <dl className="kv" data-testid="workflow-live">
                <dt>{t.workflows.step}</dt>
                <dd>
                  <Ltr>{w.live.step}</Ltr>
                </dd>
                {w.live.attempt > 0 ? (
                  <>
                    <dt>{t.workflows.attempt}</dt>
                    <dd data-testid="workflow-attempt">{fmt.number(w.live.attempt)}</dd>
                  </>
                ) : null}
                {w.live.lastError ? (
                  <>
                    <dt>{t.workflows.lastFailure}</dt>
                    <dd>
                      <pre className="failure">{w.live.lastError}</pre>
                    </dd>
                  </>
                ) : null}
              </dl>
            ) : null}
            {w.pendingActivities.length > 0 ? (
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th>{t.workflows.pendingActivities}</th>
                      <th className="num">{t.workflows.attempt}</th>
                      <th>{t.workflows.nextRetry}</th>
                      <th>{t.workflows.lastFailure}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {w.pendingActivities.map((a) => (
                      <tr key={a.activityId}>
                        <td>
                          <Ltr>{a.type}</Ltr> <span className="muted">{a.state}</span>
                        </td>
                        <td className="num">
                          {fmt.number(a.attempt)}
                          {a.maximumAttempts > 0 ? ` / ${fmt.number(a.maximumAttempts)}` : ''}
                        </td>
                        <td>{a.nextAttemptAt ? fmt.dateTime(a.nextAttemptAt) : '—'}</td>
                        <td>{a.lastFailure ? <pre className="failure">{a.lastFailure}</pre> : '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : null}
            {w.status === 'RUNNING' ? (
              <div className="form-actions">
                {w.type === 'orderToProvision' ? (
                  <>
                    <PostForm className="inline-form">
                      <input type="hidden" name="workflowId" value={w.workflowId} />
                      <SubmitButton value="retry" className="btn btn-small">
                        {t.workflows.retryNow}
                      </SubmitButton>
                    </PostForm>
                    <PostForm className="inline-form">
                      <input type="hidden" name="workflowId" value={w.workflowId} />
                      <SubmitButton value="cancel" className="btn btn-small">
                        {t.workflows.cancelRefund}
                      </SubmitButton>
                    </PostForm>
                  </>
                ) : null}
                <details className="danger-zone">
                  <summary>{t.workflows.terminate}</summary>
                  <p className="muted">{t.workflows.terminateHint}</p>
                  <PostForm>
                    <input type="hidden" name="workflowId" value={w.workflowId} />
                    <Field label={t.workflows.terminateConfirm} name="confirmId" dir="ltr" required />
                    <Field label={t.workflows.terminateReason} name="reason" required />
                    <div className="form-actions">
                      <SubmitButton value="terminate" className="btn btn-small btn-danger">
                        {t.workflows.terminate}
                      </SubmitButton>
                    </div>
                  </PostForm>
                </details>
              </div>
            ) : null}
          </div>
        </Card>
      ))}
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
