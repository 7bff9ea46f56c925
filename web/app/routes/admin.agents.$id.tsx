import { randomUUID } from 'node:crypto'
import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { useActionData, useLoaderData, useSearchParams } from '@remix-run/react'
import { adjustManual, InsufficientCreditError, LedgerError } from '#db/ledger.ts'
import { getAgent, listLedger, setAgentStatus, updateAgent } from '#db/web-agents.ts'
import { listLocations } from '#db/web-catalog.ts'
import { InvalidAmountError } from '#domain/money.ts'
import { reportCreditChange } from '#temporal/start.ts'
import { AgentFields } from '~/components/agent-fields.tsx'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, Ltr, PageHeader, StatusBadge } from '~/components/page.tsx'
import { Pagination } from '~/components/pagination.tsx'
import { adminAction, idParam, pageParam } from '~/utils/admin.server.ts'
import { AdjustCreditSchema, EditAgentSchema } from '~/utils/agent-form.server.ts'
import { audit } from '~/utils/audit.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { parseForm } from '~/utils/forms.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { withTemporal } from '~/utils/workflows.server.ts'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  await requireAdmin(request, context)
  const id = idParam(params.id)
  const agent = await getAgent(context.db, id)
  if (!agent) throw new Response('Not found', { status: 404 })
  const page = pageParam(new URL(request.url))
  const [locations, ledger] = await Promise.all([listLocations(context.db), listLedger(context.db, id, { page })])
  // A fresh key per form view: submitting the same form twice moves credit once.
  return { agent, locations, ledger: ledger.rows, page, hasMore: ledger.hasMore, adjustKey: randomUUID() }
}

type Result = { ok: boolean; message?: string; warning?: string; errors?: Record<string, string>; form?: string }

export async function action({ request, context, params }: ActionFunctionArgs) {
  const { user, form, intent, t, fmt } = await adminAction(request, context)
  const id = idParam(params.id)
  const agent = await getAgent(context.db, id)
  if (!agent) throw new Response('Not found', { status: 404 })

  switch (intent) {
    case 'update': {
      const parsed = parseForm(EditAgentSchema, form, t)
      if (!parsed.ok) return data<Result>({ ok: false, errors: parsed.errors, form: 'update' }, { status: 400 })
      const known = new Set((await listLocations(context.db)).map((l) => l.id))
      if (parsed.data.locationIds.some((l) => !known.has(l))) {
        return data<Result>({ ok: false, errors: { locationIds: t.errors.invalid }, form: 'update' }, { status: 400 })
      }
      await updateAgent(context.db, id, parsed.data)
      const { password, ...safe } = parsed.data
      await audit(request, context, user.id, 'agent.update', { type: 'user', id }, { ...safe, passwordChanged: Boolean(password) })
      return data<Result>({ ok: true, message: t.agents.updated, form: 'update' })
    }
    case 'disable':
    case 'enable': {
      await setAgentStatus(context.db, id, intent === 'disable' ? 'disabled' : 'active')
      await audit(request, context, user.id, `agent.${intent}`, { type: 'user', id })
      return data<Result>({ ok: true, message: t.agents.updated, form: 'status' })
    }
    case 'adjust': {
      const parsed = parseForm(AdjustCreditSchema, form, t)
      if (!parsed.ok) return data<Result>({ ok: false, errors: parsed.errors, form: 'adjust' }, { status: 400 })
      let result
      try {
        result = await adjustManual(context.db, {
          userId: id,
          amount: parsed.data.amount,
          note: parsed.data.note,
          actorUserId: user.id,
          idempotencyKey: `manual:${parsed.data.idempotencyKey}`,
        })
      } catch (error) {
        if (error instanceof InvalidAmountError) return data<Result>({ ok: false, errors: { amount: t.errors.invalidAmount }, form: 'adjust' }, { status: 400 })
        if (error instanceof InsufficientCreditError || error instanceof LedgerError) {
          return data<Result>({ ok: false, errors: { amount: error.message }, form: 'adjust' }, { status: 400 })
        }
        throw error
      }
      if (!result.replayed) {
        await audit(request, context, user.id, 'agent.credit_adjust', { type: 'user', id }, {
          amount: parsed.data.amount.toString(),
          note: parsed.data.note,
          entryId: result.entryId,
          usableAfter: result.usable.toString(),
        })
      }
      // The 24-hour rule hears about every change of an agent's credit.
      const told = await withTemporal(context, (client) =>
        reportCreditChange(client, { userId: id, role: 'agent', usable: result.usable, backToNonNegative: result.backToNonNegative }),
      )
      return data<Result>({
        ok: true,
        message: `${t.agents.adjusted} ${t.agents.usable}: ${fmt.money(result.usable)}`,
        warning: told.ok ? undefined : t.errors.temporalUnavailable,
        form: 'adjust',
      })
    }
    default:
      throw new Response(`Unknown intent ${intent}`, { status: 400 })
  }
}

export default function AgentDetail() {
  const { agent, locations, ledger, page, hasMore, adjustKey } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [params] = useSearchParams()
  const { t, fmt } = useI18n()
  const errors = (form: string): Record<string, string> => (actionData?.form === form ? (actionData.errors ?? {}) : {})
  const usable = agent.confirmed + agent.pending
  return (
    <>
      <PageHeader title={`${agent.firstName} ${agent.lastName}`}>
        <StatusBadge status={agent.status} label={agent.status === 'active' ? t.common.active : t.common.disabled} />
        <PostForm>
          {agent.status === 'active' ? (
            <SubmitButton value="disable" className="btn btn-danger">
              {t.agents.disableAgent}
            </SubmitButton>
          ) : (
            <SubmitButton value="enable" className="btn btn-success">
              {t.agents.enableAgent}
            </SubmitButton>
          )}
        </PostForm>
      </PageHeader>
      {params.get('notice') === 'created' && !actionData ? <Notice kind="success">{t.agents.created}</Notice> : null}
      {actionData?.ok && actionData.message ? <Notice kind="success">{actionData.message}</Notice> : null}
      {actionData?.warning ? <Notice kind="warning">{actionData.warning}</Notice> : null}
      {agent.status === 'disabled' ? <Notice kind="warning">{t.agents.disabledNotice}</Notice> : null}

      <div className="grid">
        <Card>
          <div className="stat">
            <span className="label">{t.agents.usable}</span>
            <span className={`value ${usable < 0n ? 'negative' : ''}`} data-testid="agent-usable">
              {fmt.money(usable)}
            </span>
          </div>
        </Card>
        <Card>
          <div className="stat">
            <span className="label">{t.agents.confirmed}</span>
            <span className="value">{fmt.money(agent.confirmed)}</span>
          </div>
        </Card>
        <Card>
          <div className="stat">
            <span className="label">{t.agents.pending}</span>
            <span className="value">{fmt.money(agent.pending)}</span>
          </div>
        </Card>
        <Card>
          <div className="stat">
            <span className="label">{t.agents.activeAccounts}</span>
            <span className="value">
              {fmt.number(agent.activeAccounts)}
              {agent.maxActiveAccounts !== null ? ` / ${fmt.number(agent.maxActiveAccounts)}` : ''}
            </span>
          </div>
        </Card>
      </div>

      <div className="grid-2">
        <Card title={t.agents.editAgent}>
          <p className="muted">
            {t.auth.username}: <Ltr>{agent.username}</Ltr>
          </p>
          <PostForm>
            <AgentFields values={agent} errors={errors('update')} locations={locations} />
            <fieldset className="form-grid">
              <legend>{t.agents.account}</legend>
              <Field label={t.agents.resetPassword} name="password" type="password" dir="ltr" autoComplete="new-password" hint={t.agents.resetPasswordHint} error={errors('update').password} />
            </fieldset>
            <div className="form-actions">
              <SubmitButton value="update">{t.common.save}</SubmitButton>
            </div>
          </PostForm>
        </Card>
        <Card title={t.agents.adjustCredit}>
          <p className="muted">{t.agents.adjustHint}</p>
          <PostForm>
            <input type="hidden" name="idempotencyKey" value={adjustKey} />
            <Field label={t.common.amount} name="amount" inputMode="numeric" dir="ltr" required error={errors('adjust').amount} />
            <Field label={t.common.note} name="note" required error={errors('adjust').note} />
            <div className="form-actions">
              <SubmitButton value="adjust">{t.common.save}</SubmitButton>
            </div>
          </PostForm>
        </Card>
      </div>

      <Card title={t.agents.ledger}>
        {ledger.length === 0 ? (
          <p className="muted">{t.common.empty}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>{t.common.date}</th>
                  <th>{t.agents.entryType}</th>
                  <th className="num">{t.agents.confirmed}</th>
                  <th className="num">{t.agents.pending}</th>
                  <th className="num">{t.agents.balanceAfter}</th>
                  <th>{t.common.note}</th>
                </tr>
              </thead>
              <tbody>
                {ledger.map((e) => (
                  <tr key={e.id}>
                    <td>{fmt.dateTime(e.createdAt)}</td>
                    <td>
                      <Ltr>
                        <span className="mono">{e.type}</span>
                      </Ltr>
                      {e.referenceType ? (
                        <div className="muted">
                          <Ltr>
                            {e.referenceType}
                            {e.referenceId ? `#${e.referenceId}` : ''}
                          </Ltr>
                        </div>
                      ) : null}
                    </td>
                    <td className={`num ${e.confirmedDelta < 0n ? 'negative' : ''}`}>{e.confirmedDelta === 0n ? '—' : fmt.money(e.confirmedDelta)}</td>
                    <td className={`num ${e.pendingDelta < 0n ? 'negative' : ''}`}>{e.pendingDelta === 0n ? '—' : fmt.money(e.pendingDelta)}</td>
                    <td className="num">{fmt.money(e.confirmedAfter + e.pendingAfter)}</td>
                    <td>
                      {e.note ?? ''}
                      {e.actorUsername ? (
                        <div className="muted">
                          <Ltr>{e.actorUsername}</Ltr>
                        </div>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pagination page={page} hasMore={hasMore} />
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
