import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useActionData, useLoaderData, useSearchParams } from '@remix-run/react'
import { z } from 'zod'
import type { PaymentMethodKind } from '#db/models.ts'
import { createPaymentMethod, listPaymentMethods, setPaymentMethodActive, updatePaymentMethod, type PaymentMethodRow } from '#db/web-catalog.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Checkbox, Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, Ltr, PageHeader, StatusBadge } from '~/components/page.tsx'
import type { Dictionary } from '~/i18n/index.ts'
import { adminAction, idParam } from '~/utils/admin.server.ts'
import { audit } from '~/utils/audit.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { asciiDigits, f, parseForm } from '~/utils/forms.server.ts'
import { useI18n } from '~/utils/root-data.ts'

const KINDS = ['CARD', 'SHEBA', 'CRYPTO', 'ZARINPAL'] as const satisfies readonly PaymentMethodKind[]

/** Which config fields each kind has, in form order. */
const CONFIG_FIELDS: Record<PaymentMethodKind, { name: string; required: boolean }[]> = {
  CARD: [
    { name: 'cardNumber', required: true },
    { name: 'holder', required: true },
    { name: 'bank', required: false },
  ],
  SHEBA: [
    { name: 'sheba', required: true },
    { name: 'holder', required: true },
    { name: 'bank', required: false },
  ],
  CRYPTO: [
    { name: 'network', required: true },
    { name: 'address', required: true },
  ],
  ZARINPAL: [{ name: 'merchantId', required: false }],
}

const digitsOnly = (v: unknown) => (typeof v === 'string' ? asciiDigits(v).replace(/[\s-]/g, '') : v)

const common = {
  titleFa: f.text(120),
  titleEn: f.text(120),
  dailyCountLimit: f.optionalInt({ min: 0, max: 100_000 }),
  dailyAmountLimit: f.optionalMoney(),
  active: f.checkbox(),
}

const MethodSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('CARD'),
    ...common,
    cardNumber: z.preprocess(digitsOnly, z.string({ required_error: 'required' }).regex(/^\d{16}$/, 'invalidCard')),
    holder: f.text(120),
    bank: f.optionalText(80, 'name'),
  }),
  z.object({
    kind: z.literal('SHEBA'),
    ...common,
    sheba: z.preprocess(
      (v) => (typeof v === 'string' ? digitsOnly(v.toUpperCase()) : v),
      z.string({ required_error: 'required' }).regex(/^IR\d{24}$/, 'invalidSheba'),
    ),
    holder: f.text(120),
    bank: f.optionalText(80, 'name'),
  }),
  z.object({ kind: z.literal('CRYPTO'), ...common, network: f.text(40), address: f.text(200) }),
  z.object({ kind: z.literal('ZARINPAL'), ...common, merchantId: f.optionalText(64) }),
])

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAdmin(request, context)
  return { methods: await listPaymentMethods(context.db) }
}

type Result = { ok: boolean; message?: string; errors?: Record<string, string>; form?: string; kind?: PaymentMethodKind }

export async function action({ request, context }: ActionFunctionArgs) {
  const { user, form, intent, t } = await adminAction(request, context)
  const id = form.get('id') ? idParam(form.get('id')) : null
  if (intent === 'activate' || intent === 'deactivate') {
    if (!id || !(await setPaymentMethodActive(context.db, id, intent === 'activate'))) throw new Response('Not found', { status: 404 })
    await audit(request, context, user.id, `payment_method.${intent}`, { type: 'payment_method', id })
    return data<Result>({ ok: true, message: t.paymentMethods.updated })
  }
  if (intent !== 'create' && intent !== 'update') throw new Response(`Unknown intent ${intent}`, { status: 400 })
  const formName = intent === 'create' ? 'create' : `edit-${id}`
  // Errors of the card and SHEBA checks live in the paymentMethods dictionary.
  const dictionary = { ...t, errors: { ...t.errors, invalidCard: t.paymentMethods.invalidCard, invalidSheba: t.paymentMethods.invalidSheba } } as Dictionary
  const parsed = parseForm(MethodSchema, form, dictionary)
  if (!parsed.ok) {
    const kind = KINDS.find((k) => k === form.get('kind'))
    return data<Result>({ ok: false, errors: parsed.errors, form: formName, kind }, { status: 400 })
  }
  const { kind, titleFa, titleEn, dailyCountLimit, dailyAmountLimit, active, ...rest } = parsed.data
  const config = Object.fromEntries(Object.entries(rest).filter((e): e is [string, string] => typeof e[1] === 'string'))
  const input = { kind, titleFa, titleEn, dailyCountLimit, dailyAmountLimit, active, config }
  const detail = { ...input, dailyAmountLimit: dailyAmountLimit?.toString() ?? null }
  if (intent === 'create') {
    const methodId = await createPaymentMethod(context.db, input)
    await audit(request, context, user.id, 'payment_method.create', { type: 'payment_method', id: methodId }, detail)
    return data<Result>({ ok: true, message: t.paymentMethods.created })
  }
  if (!id || !(await updatePaymentMethod(context.db, id, input))) throw new Response('Not found', { status: 404 })
  await audit(request, context, user.id, 'payment_method.update', { type: 'payment_method', id }, detail)
  return redirect('/admin/payment-methods?notice=updated')
}

function configLabel(t: Dictionary, name: string): string {
  const labels: Record<string, string> = {
    cardNumber: t.paymentMethods.cardNumber,
    holder: t.paymentMethods.holder,
    bank: t.paymentMethods.bank,
    sheba: t.paymentMethods.sheba,
    network: t.paymentMethods.network,
    address: t.paymentMethods.walletAddress,
    merchantId: t.paymentMethods.merchantId,
  }
  return labels[name] ?? name
}

function MethodForm({ kind, method, errors, intent }: { kind: PaymentMethodKind; method?: PaymentMethodRow; errors: Record<string, string>; intent: 'create' | 'update' }) {
  const { t } = useI18n()
  return (
    <PostForm>
      <input type="hidden" name="kind" value={kind} />
      {method ? <input type="hidden" name="id" value={method.id} /> : null}
      <div className="form-grid">
        <Field label={t.paymentMethods.titleFa} name="titleFa" defaultValue={method?.titleFa ?? t.paymentMethods.kinds[kind]} required error={errors.titleFa} />
        <Field label={t.paymentMethods.titleEn} name="titleEn" dir="ltr" defaultValue={method?.titleEn} required error={errors.titleEn} />
        {CONFIG_FIELDS[kind].map((field) => (
          <Field
            key={field.name}
            label={configLabel(t, field.name)}
            name={field.name}
            dir="ltr"
            defaultValue={method?.config[field.name]}
            required={field.required}
            hint={field.name === 'merchantId' ? t.paymentMethods.merchantIdHint : undefined}
            error={errors[field.name]}
          />
        ))}
        <Field
          label={t.paymentMethods.dailyCountLimit}
          name="dailyCountLimit"
          inputMode="numeric"
          defaultValue={method?.dailyCountLimit ?? ''}
          hint={t.paymentMethods.limitHint}
          error={errors.dailyCountLimit}
        />
        <Field
          label={t.paymentMethods.dailyAmountLimit}
          name="dailyAmountLimit"
          inputMode="numeric"
          dir="ltr"
          defaultValue={method?.dailyAmountLimit?.toString() ?? ''}
          hint={t.paymentMethods.limitHint}
          error={errors.dailyAmountLimit}
        />
        <div className="field">
          <span className="hint">&nbsp;</span>
          <Checkbox label={t.common.active} name="active" defaultChecked={method?.active ?? true} />
        </div>
      </div>
      <div className="form-actions">
        <SubmitButton value={intent}>{intent === 'create' ? t.common.create : t.common.save}</SubmitButton>
        <Link to="/admin/payment-methods" className="btn">
          {t.common.cancel}
        </Link>
      </div>
    </PostForm>
  )
}

export default function PaymentMethods() {
  const { methods } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [params] = useSearchParams()
  const { t, fmt, locale } = useI18n()
  const editing = methods.find((m) => String(m.id) === params.get('edit'))
  // The create form stays open after a refused submission (the action's URL has no ?new=).
  const newKind = KINDS.find((k) => k === params.get('new')) ?? (actionData?.form === 'create' ? actionData.kind : undefined)
  const errorsFor = (name: string): Record<string, string> => (actionData?.form === name ? (actionData.errors ?? {}) : {})
  return (
    <>
      <PageHeader title={t.paymentMethods.title}>
        {KINDS.map((k) => (
          <Link key={k} className="btn" to={`?new=${k}`}>
            + {t.paymentMethods.kinds[k]}
          </Link>
        ))}
      </PageHeader>
      {actionData?.ok && actionData.message ? <Notice kind="success">{actionData.message}</Notice> : null}
      {params.get('notice') === 'updated' && !actionData ? <Notice kind="success">{t.paymentMethods.updated}</Notice> : null}
      {newKind && !actionData?.ok ? (
        <Card title={`${t.paymentMethods.newMethod}: ${t.paymentMethods.kinds[newKind]}`}>
          <MethodForm key={newKind} kind={newKind} errors={errorsFor('create')} intent="create" />
        </Card>
      ) : null}
      {editing ? (
        <Card title={`${t.common.edit}: ${locale === 'fa' ? editing.titleFa : editing.titleEn}`}>
          <MethodForm key={editing.id} kind={editing.kind} method={editing} errors={errorsFor(`edit-${editing.id}`)} intent="update" />
        </Card>
      ) : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>{t.paymentMethods.kind}</th>
              <th>{t.common.name}</th>
              <th>{t.paymentMethods.config}</th>
              <th className="num">{t.paymentMethods.dailyCountLimit}</th>
              <th className="num">{t.paymentMethods.dailyAmountLimit}</th>
              <th>{t.common.status}</th>
              <th>{t.common.actions}</th>
            </tr>
          </thead>
          <tbody>
            {methods.length === 0 ? (
              <tr>
                <td colSpan={7} className="muted">
                  {t.common.empty}
                </td>
              </tr>
            ) : null}
            {methods.map((m) => (
              <tr key={m.id}>
                <td>{t.paymentMethods.kinds[m.kind]}</td>
                <td>{locale === 'fa' ? m.titleFa : m.titleEn}</td>
                <td>
                  {Object.entries(m.config).map(([k, v]) => (
                    <div key={k}>
                      <span className="muted">{configLabel(t, k)}:</span> <Ltr>{v}</Ltr>
                    </div>
                  ))}
                </td>
                <td className="num">
                  {fmt.number(m.todayCount)} / {m.dailyCountLimit === null ? '∞' : fmt.number(m.dailyCountLimit)}
                </td>
                <td className="num">
                  {fmt.money(m.todayAmount)} / {m.dailyAmountLimit === null ? '∞' : fmt.money(m.dailyAmountLimit)}
                </td>
                <td>
                  <StatusBadge status={m.active ? 'active' : 'disabled'} label={m.active ? t.common.active : t.common.inactive} />
                </td>
                <td>
                  <div className="inline-form">
                    <Link className="btn btn-small" to={`?edit=${m.id}`}>
                      {t.common.edit}
                    </Link>
                    <PostForm className="inline-form">
                      <input type="hidden" name="id" value={m.id} />
                      {m.active ? (
                        <SubmitButton value="deactivate" className="btn btn-small btn-danger">
                          {t.common.disable}
                        </SubmitButton>
                      ) : (
                        <SubmitButton value="activate" className="btn btn-small">
                          {t.common.enable}
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
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
