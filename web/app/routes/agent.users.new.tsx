import { randomUUID } from 'node:crypto'
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { getWallet } from '#db/ledger.ts'
import { listPlansForBuyer } from '#db/shop.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, PageHeader } from '~/components/page.tsx'
import { PlanPicker } from '~/components/plan-picker.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { f, parseForm, readForm } from '~/utils/forms.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { formFailure, placeOrderForUser } from '~/utils/shop.server.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const [plans, wallet] = await Promise.all([listPlansForBuyer(context.db, user.id), getWallet(context.db, user.id)])
  // A fresh key per form view: a double click or a resent form makes one order.
  return { plans, usable: wallet.usable, orderKey: randomUUID() }
}

const CreateUserSchema = z.object({
  planId: f.id(),
  locationId: f.id(),
  label: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.string().trim().max(64, 'tooLong').regex(/^[\p{L}\p{N} _.@+-]+$/u, 'invalid').optional(),
  ),
  note: f.optionalText(500),
  orderKey: z.string({ required_error: 'required' }).uuid('invalid'),
})

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const form = await readForm(request, context)
  const { t, fmt } = i18nFor(request, context, user)
  const parsed = parseForm(CreateUserSchema, form, t)
  if (!parsed.ok) return data({ errors: parsed.errors }, { status: 400 })
  try {
    const placed = await placeOrderForUser(
      context,
      {
        userId: user.id,
        planId: parsed.data.planId,
        locationId: parsed.data.locationId,
        payMethod: 'wallet',
        kind: 'new',
        idempotencyKey: `web:${parsed.data.orderKey}`,
        requestedUsername: parsed.data.label ?? null,
        note: parsed.data.note,
      },
      t,
      fmt,
    )
    return redirect(`/agent/orders/${placed.order.id}`)
  } catch (error) {
    const failure = formFailure(error)
    return data({ errors: failure.errors }, { status: failure.status })
  }
}

export default function AgentCreateUser() {
  const { plans, usable, orderKey } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const { t, fmt } = useI18n()
  const s = t.shop
  const errors: Record<string, string> = actionData?.errors ?? {}
  return (
    <>
      <PageHeader title={s.newUser.title} />
      <p className="muted">{s.newUser.creditNow(fmt.money(usable))}</p>
      {errors.form ? (
        <div data-testid="order-refused">
          <Notice kind="error">{errors.form}</Notice>
        </div>
      ) : null}
      {usable < 0n && !errors.form ? (
        <Notice kind="error">
          {s.dashboard.ordersBlocked(fmt.money(-usable))} <Link to="/agent/wallet">{s.wallet.topUp}</Link>
        </Notice>
      ) : null}
      <Card>
        <PostForm>
          <input type="hidden" name="orderKey" value={orderKey} />
          <PlanPicker plans={plans} errors={errors} />
          <Field label={s.newUser.label} name="label" hint={s.newUser.labelHint} error={errors.label} dir="auto" />
          <Field label={t.common.note} name="note" error={errors.note} />
          {errors.orderKey ? <Notice kind="error">{errors.orderKey}</Notice> : null}
          <div className="form-actions">
            <SubmitButton value="create" data-testid="create-user">
              {s.newUser.submit}
            </SubmitButton>
          </div>
        </PostForm>
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
