import { Link } from '@remix-run/react'
import { Card } from '~/components/page.tsx'
import { StatusTracker, useLiveStatus, type LiveStatus } from '~/components/status-tracker.tsx'
import { useI18n } from '~/utils/root-data.ts'

export interface PaymentSummaryData {
  id: number
  amount: string
  methodKind: string
  methodTitleFa: string
  methodTitleEn: string
  orderId: number | null
  gatewayRefId: string | null
  hasReceipt: boolean
  createdAt: string | Date
}

/** One payment with its live state (waiting for approval → approved / rejected / expired). */
export function PaymentSummary({ payment, status: initial, linkBase }: { payment: PaymentSummaryData; status: LiveStatus; linkBase: string }) {
  const { t, fmt, locale } = useI18n()
  const status = useLiveStatus(initial)
  return (
    <Card title={t.shop.payment.title(fmt.number(payment.id))}>
      <dl className="kv">
        <div>
          <dt>{t.common.amount}</dt>
          <dd>{fmt.money(payment.amount)}</dd>
        </div>
        <div>
          <dt>{t.payments.method}</dt>
          <dd>{locale === 'fa' ? payment.methodTitleFa : payment.methodTitleEn}</dd>
        </div>
        <div>
          <dt>{t.common.created}</dt>
          <dd>{fmt.dateTime(payment.createdAt)}</dd>
        </div>
        {payment.orderId ? (
          <div>
            <dt>{t.payments.order}</dt>
            <dd>
              <Link to={`${linkBase}/orders/${payment.orderId}`}>#{fmt.number(payment.orderId)}</Link>
            </dd>
          </div>
        ) : null}
        {payment.hasReceipt ? (
          <div>
            <dt>{t.payments.receipt}</dt>
            <dd>
              <a href={`/receipts/${payment.id}`} target="_blank" rel="noreferrer">
                {t.payments.openReceipt}
              </a>
            </dd>
          </div>
        ) : null}
        {payment.gatewayRefId ? (
          <div>
            <dt>{t.shop.payment.gatewayRef}</dt>
            <dd className="mono">{payment.gatewayRefId}</dd>
          </div>
        ) : null}
      </dl>
      <StatusTracker status={status} payMethod={payment.methodKind === 'ZARINPAL' ? 'zarinpal' : 'receipt'} />
      {!status.final ? <p className="muted">{t.live.followHint}</p> : null}
    </Card>
  )
}
