import { randomUUID } from 'node:crypto'
import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { useState } from 'react'
import { z } from 'zod'
import { getWallet } from '#db/ledger.ts'
import { getAccountOfUser, listPaymentMethods, listPlansForBuyer } from '#db/shop.ts'
import { parseId } from '#domain/ids.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, Ltr, PageHeader } from '~/components/page.tsx'
import { PlanPicker } from '~/components/plan-picker.tsx'
import { MethodDetails } from '~/components/top-up-form.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { f, parseForm } from '~/utils/forms.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import {
  abandonOrder,
  formFailure,
  placeOrderForUser,
  readUploadForm,
  RECEIPT_KINDS,
  ShopError,
  storeUploadedReceipt,
  submitReceiptForUser,
} from '~/utils/shop.server.ts'
import { startGatewayPayment, zarinpalMethod } from '~/utils/zarinpal.server.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'customer')
  const url = new URL(request.url)
  const accountParam = parseId(url.searchParams.get('account'))
  const renewing = accountParam !== null ? await getAccountOfUser(context.db, user.id, accountParam) : undefined
  if (url.searchParams.has('account') && (!renewing || renewing.status === 'deleted')) throw new Response('Not found', { status: 404 })
  const [allPlans, wallet, methods, zarinpal] = await Promise.all([
    listPlansForBuyer(context.db, user.id),
    getWallet(context.db, user.id),
    listPaymentMethods(context.db, RECEIPT_KINDS),
    zarinpalMethod(context.db, context.env),
  ])
  const plans = renewing ? allPlans.filter((p) => p.locations.some((l) => l.id === renewing.locationId)) : allPlans
  return {
    plans,
    balance: wallet.spendable,
    methods,
    gateway: Boolean(zarinpal),
    renewing: renewing ? { id: renewing.id, panelUsername: renewing.panelUsername, planId: renewing.planId } : null,
    // A fresh key per form view: a double click or a resent form makes one order.
    orderKey: randomUUID(),
  }
}

const BuySchema = z
  .object({
    planId: f.id(),
    locationId: f.optionalInt({ min: 1 }),
    accountId: f.optionalInt({ min: 1 }),
    payMethod: z.enum(['wallet', 'receipt', 'zarinpal'], { errorMap: () => ({ message: 'chooseOne' }) }),
    methodId: f.optionalInt({ min: 1 }),
    orderKey: z.string({ required_error: 'required' }).uuid('invalid'),
  })
  .superRefine((v, ctx) => {
    if (v.accountId === null && v.locationId === null) ctx.addIssue({ code: 'custom', path: ['locationId'], message: 'required' })
    if (v.payMethod === 'receipt' && v.methodId === null) ctx.addIssue({ code: 'custom', path: ['methodId'], message: 'chooseOne' })
  })

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireRole(request, context, 'customer')
  const { t, fmt } = i18nFor(request, context, user)
  const read = await readUploadForm(request, context, t, fmt)
  if (!read.ok) return data({ errors: read.errors }, { status: read.status })
  const form = read.value
  const parsed = parseForm(BuySchema, form, t)
  if (!parsed.ok) return data({ errors: parsed.errors }, { status: 400 })
  const input = parsed.data
  try {
    // Everything that can be checked before the order exists is checked first: the method, then the file.
    let receipt: Awaited<ReturnType<typeof storeUploadedReceipt>> | null = null
    if (input.payMethod === 'receipt') {
      const methods = await listPaymentMethods(context.db, RECEIPT_KINDS)
      if (!methods.some((m) => m.id === input.methodId)) throw new ShopError('methodId', t.shop.errors.methodUnavailable, 'METHOD_NOT_FOUND')
      receipt = await storeUploadedReceipt(context, form, t)
    }
    if (input.payMethod === 'zarinpal' && !(await zarinpalMethod(context.db, context.env))) throw new ShopError('payMethod', t.shop.errors.gatewayOff, 'GATEWAY_OFF', 409)

    const placed = await placeOrderForUser(
      context,
      {
        userId: user.id,
        planId: input.planId,
        locationId: input.accountId ? null : input.locationId,
        accountId: input.accountId,
        kind: input.accountId ? 'renew' : 'new',
        payMethod: input.payMethod,
        idempotencyKey: `web:${input.orderKey}`,
      },
      t,
      fmt,
    )
    const orderPath = `/customer/orders/${placed.order.id}`
    // The same form sent again: the first submission already did the rest.
    if (!placed.created) return redirect(orderPath)
    if (input.payMethod === 'receipt') {
      try {
        await submitReceiptForUser(context, { userId: user.id, methodId: input.methodId!, amount: BigInt(placed.order.price), orderId: placed.order.id, receipt }, t)
      } catch (error) {
        await abandonOrder(context, placed.order.id, user.id, 'the receipt could not be submitted')
        throw error
      }
    }
    if (input.payMethod === 'zarinpal') {
      try {
        return redirect(await startGatewayPayment(context, { userId: user.id, orderId: placed.order.id, t }))
      } catch (error) {
        await abandonOrder(context, placed.order.id, user.id, 'the gateway could not be reached')
        throw error
      }
    }
    return redirect(orderPath)
  } catch (error) {
    const failure = formFailure(error)
    return data({ errors: failure.errors }, { status: failure.status })
  }
}

type PayMethod = 'wallet' | 'receipt' | 'zarinpal'

export default function CustomerBuy() {
  const { plans, balance, methods, gateway, renewing, orderKey } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const { t, fmt, locale } = useI18n()
  const s = t.shop
  const errors: Record<string, string> = actionData?.errors ?? {}
  const [payMethod, setPayMethod] = useState<PayMethod>(methods.length > 0 ? 'receipt' : gateway ? 'zarinpal' : 'wallet')
  const [methodId, setMethodId] = useState<number | null>(methods[0]?.id ?? null)
  const method = methods.find((m) => m.id === methodId) ?? null
  const options: { value: PayMethod; label: string; hint: string }[] = [
    { value: 'wallet', label: s.buy.payWallet, hint: s.buy.payWalletHint(fmt.money(balance)) },
    ...(methods.length > 0 ? [{ value: 'receipt' as const, label: s.buy.payReceipt, hint: s.buy.payReceiptHint }] : []),
    ...(gateway ? [{ value: 'zarinpal' as const, label: s.buy.payGateway, hint: s.buy.payGatewayHint }] : []),
  ]
  return (
    <>
      <PageHeader title={renewing ? s.buy.renewTitle : s.buy.title} />
      {renewing ? (
        <p>
          {s.buy.renewing} <Ltr>{renewing.panelUsername}</Ltr> · <Link to={`/customer/accounts/${renewing.id}`}>{t.common.back}</Link>
        </p>
      ) : null}
      {errors.form ? (
        <div data-testid="order-refused">
          <Notice kind="error">{errors.form}</Notice>
        </div>
      ) : null}
      <Card>
        <PostForm encType="multipart/form-data">
          <input type="hidden" name="orderKey" value={orderKey} />
          {renewing ? <input type="hidden" name="accountId" value={renewing.id} /> : null}
          <PlanPicker plans={plans} errors={errors} withLocation={!renewing} defaultPlanId={renewing?.planId} />
          <fieldset className="field">
            <legend>{s.buy.payWith}</legend>
            {options.map((o) => (
              <label key={o.value} className="plan-choice">
                <input type="radio" name="payMethod" value={o.value} checked={payMethod === o.value} onChange={() => setPayMethod(o.value)} />
                <span>
                  <strong>{o.label}</strong> <small className="muted">{o.hint}</small>
                </span>
              </label>
            ))}
            {errors.payMethod ? (
              <small className="field-error" role="alert">
                {errors.payMethod}
              </small>
            ) : null}
          </fieldset>
          {payMethod === 'receipt' ? (
            <div className="receipt-fields">
              <div className="field">
                <label htmlFor="f-methodId">{t.payments.method}</label>
                <select id="f-methodId" name="methodId" value={methodId ?? ''} onChange={(e) => setMethodId(Number(e.target.value))} aria-invalid={errors.methodId ? true : undefined}>
                  {methods.map((m) => (
                    <option key={m.id} value={m.id}>
                      {locale === 'fa' ? m.titleFa : m.titleEn}
                    </option>
                  ))}
                </select>
                {errors.methodId ? (
                  <small className="field-error" role="alert">
                    {errors.methodId}
                  </small>
                ) : null}
              </div>
              {method ? <MethodDetails method={method} /> : null}
              <p className="muted">{s.buy.transferExactly}</p>
              <div className="field">
                <label htmlFor="f-receipt">{s.wallet.receipt}</label>
                <input id="f-receipt" name="receipt" type="file" accept="image/jpeg,image/png,image/webp,application/pdf" aria-invalid={errors.receipt ? true : undefined} />
                <small className="hint">{s.wallet.receiptHint}</small>
                {errors.receipt ? (
                  <small className="field-error" role="alert">
                    {errors.receipt}
                  </small>
                ) : null}
              </div>
            </div>
          ) : null}
          <div className="form-actions">
            <SubmitButton value="buy" data-testid="buy">
              {payMethod === 'zarinpal' ? s.buy.submitGateway : s.buy.submit}
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
