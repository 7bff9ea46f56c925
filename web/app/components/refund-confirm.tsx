import { Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card } from '~/components/page.tsx'
import { useI18n } from '~/utils/root-data.ts'

export interface RefundPreviewData {
  allowed: boolean
  refusal: string | null
  amount: string
  paid: string
  rule: string
  usedTimeBps: number
  usedTrafficBps: number
  panelAction: 'delete' | 'disable'
}

/** The refund quote of an account, and the confirmation form that starts the refund. */
export function RefundConfirm({ preview, errors }: { preview: RefundPreviewData; errors: Record<string, string> }) {
  const { t, fmt } = useI18n()
  const s = t.shop.refund
  const rules = s.rules as Record<string, string>
  const percent = (bps: number) => `${fmt.number(Math.round(bps / 100))}%`
  if (!preview.allowed) return <Notice kind="error">{preview.refusal}</Notice>
  return (
    <Card title={t.orders.refundQuote}>
      <p data-testid="refund-quote">
        <strong>{t.orders.refundQuoteText(fmt.money(preview.amount))}</strong>
      </p>
      <dl className="kv">
        <div>
          <dt>{s.paid}</dt>
          <dd>{fmt.money(preview.paid)}</dd>
        </div>
        <div>
          <dt>{s.rule}</dt>
          <dd>{rules[preview.rule] ?? preview.rule}</dd>
        </div>
        <div>
          <dt>{s.usedTime}</dt>
          <dd>{percent(preview.usedTimeBps)}</dd>
        </div>
        <div>
          <dt>{s.usedTraffic}</dt>
          <dd>{percent(preview.usedTrafficBps)}</dd>
        </div>
      </dl>
      <p className="muted">{preview.panelAction === 'delete' ? s.panelDelete : s.panelDisable}</p>
      {errors.form ? <Notice kind="error">{errors.form}</Notice> : null}
      <PostForm>
        <input type="hidden" name="confirm" value="yes" />
        <Field label={s.reason} name="reason" required error={errors.reason} />
        <div className="form-actions">
          <SubmitButton value="delete" className="btn btn-danger" data-testid="confirm-delete">
            {t.orders.deleteConfirm}
          </SubmitButton>
        </div>
      </PostForm>
    </Card>
  )
}
