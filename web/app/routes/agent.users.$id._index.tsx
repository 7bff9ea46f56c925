import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { AccountDetails } from '~/components/account-details.tsx'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, PageHeader } from '~/components/page.tsx'
import { PlanPicker } from '~/components/plan-picker.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { readForm } from '~/utils/forms.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { accountPage, positiveId, renewFromForm } from '~/utils/shop.server.ts'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  return accountPage(context, user.id, params.id)
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const form = await readForm(request, context)
  const { t, fmt } = i18nFor(request, context, user)
  const accountId = positiveId(params.id)
  if (form.get('intent') !== 'renew') throw new Response(`Unknown intent ${String(form.get('intent'))}`, { status: 400 })
  const outcome = await renewFromForm(context, user.id, accountId, form, { payMethod: 'wallet', t, fmt })
  if (!outcome.ok) return data({ errors: outcome.errors }, { status: outcome.status })
  return redirect(`/agent/orders/${outcome.value.order.id}`)
}

export default function AgentUser() {
  const { account, qr, plans, refund, renewKey } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const { t } = useI18n()
  const s = t.shop
  const errors: Record<string, string> = actionData?.errors ?? {}
  const live = account.status !== 'deleted' && (!refund || refund.step === 'failed')
  return (
    <>
      <PageHeader title={s.accounts.agentTitle}>
        <Link to="/agent/users" className="btn">
          {t.common.back}
        </Link>
        {live ? (
          <Link to={`/agent/users/${account.id}/delete`} className="btn btn-danger">
            {t.common.delete}
          </Link>
        ) : null}
      </PageHeader>
      <AccountDetails account={account} qr={qr} refund={refund}>
        {live ? (
          <section id="renew">
            <Card title={s.accounts.renewTitle}>
              <p className="muted">{s.accounts.renewHint}</p>
              {errors.form ? <Notice kind="error">{errors.form}</Notice> : null}
              <PostForm>
                <input type="hidden" name="orderKey" value={renewKey} />
                <PlanPicker plans={plans} errors={errors} withLocation={false} defaultPlanId={account.planId} />
                <div className="form-actions">
                  <SubmitButton value="renew">{s.accounts.renew}</SubmitButton>
                </div>
              </PostForm>
            </Card>
          </section>
        ) : null}
      </AccountDetails>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
