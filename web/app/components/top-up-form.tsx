import { Link } from '@remix-run/react'
import { Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Ltr } from '~/components/page.tsx'
import { useI18n } from '~/utils/root-data.ts'

export interface TopUpMethod {
  id: number
  kind: 'CARD' | 'SHEBA' | 'CRYPTO' | 'ZARINPAL'
  titleFa: string
  titleEn: string
  details: Record<string, string>
}

/** The payee details of a manual payment method (card, SHEBA or wallet address), to copy into a bank app. */
export function MethodDetails({ method }: { method: TopUpMethod }) {
  const { t } = useI18n()
  const labels: Record<string, string> = {
    cardNumber: t.paymentMethods.cardNumber,
    sheba: t.paymentMethods.sheba,
    holder: t.paymentMethods.holder,
    bank: t.paymentMethods.bank,
    network: t.paymentMethods.network,
    address: t.paymentMethods.walletAddress,
    walletAddress: t.paymentMethods.walletAddress,
  }
  const entries = Object.entries(method.details)
  if (entries.length === 0) return null
  return (
    <dl className="kv" data-testid="method-details">
      {entries.map(([key, value]) => (
        <div key={key}>
          <dt>{labels[key] ?? key}</dt>
          <dd>
            <Ltr>
              <span className="mono">{value}</span>
            </Ltr>
          </dd>
        </div>
      ))}
    </dl>
  )
}

/**
 * Top-up by receipt, in the order a payer works: choose a method (plain links, so it works without JavaScript),
 * see where to pay, then give the amount and the receipt. The amount becomes pending credit at once.
 */
export function TopUpForm({
  methods,
  selectedId,
  basePath,
  errors,
  formError,
}: {
  methods: TopUpMethod[]
  selectedId: number | null
  basePath: string
  errors: Record<string, string>
  formError?: string
}) {
  const { t, locale } = useI18n()
  const s = t.shop
  const selected = methods.find((m) => m.id === selectedId) ?? null
  if (methods.length === 0) return <p className="muted">{s.wallet.noMethods}</p>
  return (
    <div className="top-up">
      <p className="muted">{s.wallet.step1}</p>
      <ul className="method-list">
        {methods.map((m) => (
          <li key={m.id}>
            <Link to={`${basePath}?method=${m.id}#top-up`} className={`btn ${m.id === selectedId ? 'btn-primary' : ''}`} aria-current={m.id === selectedId ? 'true' : undefined} preventScrollReset>
              {locale === 'fa' ? m.titleFa : m.titleEn}
            </Link>
          </li>
        ))}
      </ul>
      {errors.methodId ? <Notice kind="error">{errors.methodId}</Notice> : null}
      {selected ? (
        <>
          <p className="muted">{s.wallet.step2}</p>
          <MethodDetails method={selected} />
          <PostForm encType="multipart/form-data" action={`${basePath}?method=${selected.id}`}>
            <input type="hidden" name="methodId" value={selected.id} />
            {formError ? <Notice kind="error">{formError}</Notice> : null}
            <Field label={t.common.amount} name="amount" inputMode="numeric" dir="ltr" required error={errors.amount} hint={s.wallet.amountHint} />
            <div className="field">
              <label htmlFor="f-receipt">{s.wallet.receipt}</label>
              <input id="f-receipt" name="receipt" type="file" accept="image/jpeg,image/png,image/webp,application/pdf" required aria-invalid={errors.receipt ? true : undefined} />
              <small className="hint">{s.wallet.receiptHint}</small>
              {errors.receipt ? (
                <small className="field-error" role="alert">
                  {errors.receipt}
                </small>
              ) : null}
            </div>
            <Field label={t.common.note} name="note" error={errors.note} />
            <div className="form-actions">
              <SubmitButton value="top-up">{s.wallet.submitReceipt}</SubmitButton>
            </div>
          </PostForm>
        </>
      ) : null}
    </div>
  )
}
