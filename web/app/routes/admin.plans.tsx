import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useActionData, useLoaderData, useSearchParams } from '@remix-run/react'
import { z } from 'zod'
import { createPlan, listLocations, listPlans, setPlanActive, updatePlan, type PlanRow } from '#db/web-catalog.ts'
import { bytesToGb, gbToBytes } from '#domain/pricing.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Checkbox, Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, PageHeader, StatusBadge } from '~/components/page.tsx'
import { adminAction, idParam } from '~/utils/admin.server.ts'
import { audit } from '~/utils/audit.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { f, parseForm } from '~/utils/forms.server.ts'
import { useI18n } from '~/utils/root-data.ts'

const PlanSchema = z
  .object({
    nameFa: f.text(120),
    nameEn: f.text(120),
    days: f.int({ min: 1, max: 3650 }),
    dataGb: z.string({ required_error: 'required' }).transform((text, ctx) => {
      try {
        return gbToBytes(text)
      } catch {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: text.trim() === '' ? 'required' : 'invalid' })
        return z.NEVER
      }
    }),
    price: f.money('positive'),
    agentPrice: f.money('positive'),
    locationIds: f.idList(),
  })
  .transform(({ dataGb, ...rest }) => ({ ...rest, dataLimitBytes: dataGb }))

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAdmin(request, context)
  const [plans, locations] = await Promise.all([listPlans(context.db), listLocations(context.db)])
  return { plans, locations }
}

type Result = { ok: boolean; message?: string; errors?: Record<string, string>; form?: string }

export async function action({ request, context }: ActionFunctionArgs) {
  const { user, form, intent, t } = await adminAction(request, context)
  const id = form.get('id') ? idParam(form.get('id')) : null
  if (intent === 'create' || intent === 'update') {
    const parsed = parseForm(PlanSchema, form, t)
    const formName = intent === 'create' ? 'create' : `edit-${id}`
    if (!parsed.ok) return data<Result>({ ok: false, errors: parsed.errors, form: formName }, { status: 400 })
    const known = new Set((await listLocations(context.db)).map((l) => l.id))
    if (parsed.data.locationIds.some((l) => !known.has(l))) {
      return data<Result>({ ok: false, errors: { locationIds: t.errors.invalid }, form: formName }, { status: 400 })
    }
    const detail = { ...parsed.data, dataLimitBytes: parsed.data.dataLimitBytes.toString(), price: parsed.data.price.toString(), agentPrice: parsed.data.agentPrice.toString() }
    if (intent === 'create') {
      const planId = await createPlan(context.db, parsed.data)
      await audit(request, context, user.id, 'plan.create', { type: 'plan', id: planId }, detail)
      return data<Result>({ ok: true, message: t.plans.created })
    }
    if (!id || !(await updatePlan(context.db, id, parsed.data))) throw new Response('Not found', { status: 404 })
    await audit(request, context, user.id, 'plan.update', { type: 'plan', id }, detail)
    return redirect('/admin/plans?notice=updated')
  }
  if (intent === 'activate' || intent === 'deactivate') {
    if (!id || !(await setPlanActive(context.db, id, intent === 'activate'))) throw new Response('Not found', { status: 404 })
    await audit(request, context, user.id, `plan.${intent}`, { type: 'plan', id })
    return data<Result>({ ok: true, message: t.plans.updated })
  }
  throw new Response(`Unknown intent ${intent}`, { status: 400 })
}

function PlanForm({
  plan,
  errors,
  locations,
  intent,
}: {
  plan?: PlanRow
  errors: Record<string, string>
  locations: { id: number; nameFa: string; nameEn: string }[]
  intent: 'create' | 'update'
}) {
  const { t, locale } = useI18n()
  return (
    <PostForm>
      {plan ? <input type="hidden" name="id" value={plan.id} /> : null}
      <div className="form-grid">
        <Field label={t.plans.nameFa} name="nameFa" defaultValue={plan?.nameFa} required error={errors.nameFa} />
        <Field label={t.plans.nameEn} name="nameEn" dir="ltr" defaultValue={plan?.nameEn} required error={errors.nameEn} />
        <Field label={t.plans.days} name="days" inputMode="numeric" defaultValue={plan?.days} required error={errors.days} />
        <Field
          label={t.plans.dataGb}
          name="dataGb"
          inputMode="decimal"
          defaultValue={plan ? bytesToGb(plan.dataLimitBytes) : undefined}
          hint={t.plans.dataGbHint}
          required
          error={errors.dataGb}
        />
        <Field label={t.plans.price} name="price" inputMode="numeric" dir="ltr" defaultValue={plan?.price.toString()} required error={errors.price} />
        <Field label={t.plans.agentPrice} name="agentPrice" inputMode="numeric" dir="ltr" defaultValue={plan?.agentPrice.toString()} required error={errors.agentPrice} />
        <div className="wide">
          <span>{t.plans.locations}</span>
          <div>
            {locations.map((l) => (
              <Checkbox key={l.id} label={locale === 'fa' ? l.nameFa : l.nameEn} name="locationIds" value={String(l.id)} defaultChecked={plan?.locationIds.includes(l.id)} />
            ))}
          </div>
          {errors.locationIds ? <small className="field-error">{errors.locationIds}</small> : null}
        </div>
      </div>
      <div className="form-actions">
        <SubmitButton value={intent}>{intent === 'create' ? t.common.create : t.common.save}</SubmitButton>
        {plan ? (
          <Link to="/admin/plans" className="btn">
            {t.common.cancel}
          </Link>
        ) : null}
      </div>
    </PostForm>
  )
}

export default function Plans() {
  const { plans, locations } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [params] = useSearchParams()
  const { t, fmt, locale } = useI18n()
  const editing = plans.find((p) => String(p.id) === params.get('edit'))
  const errorsFor = (name: string): Record<string, string> => (actionData?.form === name ? (actionData.errors ?? {}) : {})
  const locationName = (id: number) => {
    const l = locations.find((x) => x.id === id)
    return l ? (locale === 'fa' ? l.nameFa : l.nameEn) : String(id)
  }
  return (
    <>
      <PageHeader title={t.plans.title} />
      {actionData?.ok && actionData.message ? <Notice kind="success">{actionData.message}</Notice> : null}
      {params.get('notice') === 'updated' && !actionData ? <Notice kind="success">{t.plans.updated}</Notice> : null}
      {editing ? (
        <Card title={t.plans.editPlan}>
          <PlanForm key={editing.id} plan={editing} errors={errorsFor(`edit-${editing.id}`)} locations={locations} intent="update" />
        </Card>
      ) : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>{t.common.name}</th>
              <th className="num">{t.plans.days}</th>
              <th className="num">{t.plans.dataGb}</th>
              <th className="num">{t.plans.price}</th>
              <th className="num">{t.plans.agentPrice}</th>
              <th>{t.plans.locations}</th>
              <th>{t.common.status}</th>
              <th>{t.common.actions}</th>
            </tr>
          </thead>
          <tbody>
            {plans.length === 0 ? (
              <tr>
                <td colSpan={8} className="muted">
                  {t.common.empty}
                </td>
              </tr>
            ) : null}
            {plans.map((p) => (
              <tr key={p.id} data-testid={`plan-${p.id}`}>
                <td>{locale === 'fa' ? p.nameFa : p.nameEn}</td>
                <td className="num">{fmt.number(p.days)}</td>
                <td className="num">{p.dataLimitBytes === 0n ? t.common.unlimited : fmt.bytes(p.dataLimitBytes)}</td>
                <td className="num">{fmt.money(p.price)}</td>
                <td className="num">{fmt.money(p.agentPrice)}</td>
                <td>{p.locationIds.length === 0 ? t.common.all : p.locationIds.map(locationName).join(locale === 'fa' ? '، ' : ', ')}</td>
                <td>
                  <StatusBadge status={p.active ? 'active' : 'disabled'} label={p.active ? t.common.active : t.common.inactive} />
                </td>
                <td>
                  <div className="inline-form">
                    <Link className="btn btn-small" to={`?edit=${p.id}`}>
                      {t.common.edit}
                    </Link>
                    <PostForm className="inline-form">
                      <input type="hidden" name="id" value={p.id} />
                      {p.active ? (
                        <SubmitButton value="deactivate" className="btn btn-small btn-danger">
                          {t.plans.deactivate}
                        </SubmitButton>
                      ) : (
                        <SubmitButton value="activate" className="btn btn-small">
                          {t.plans.activate}
                        </SubmitButton>
                      )}
                    </PostForm>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Card title={t.plans.newPlan}>
        <PlanForm errors={errorsFor('create')} locations={locations} intent="create" />
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
