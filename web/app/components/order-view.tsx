import { Link } from '@remix-run/react'
import type { ReactNode } from 'react'
import { CopyButton } from '~/components/copy-button.tsx'
import { Card, Ltr } from '~/components/page.tsx'
import { QrCode } from '~/components/qr-code.tsx'
import { StatusTracker, useLiveStatus, type LiveStatus } from '~/components/status-tracker.tsx'
import { useI18n } from '~/utils/root-data.ts'

export interface OrderViewData {
  id: number
  kind: 'new' | 'renew' | 'extend'
  payMethod: 'wallet' | 'receipt' | 'zarinpal'
  price: string
  planNameFa: string
  planNameEn: string
  locationNameFa: string | null
  locationNameEn: string | null
  requestedUsername: string | null
  createdAt: string | Date
}

/** The subscription link of a delivered account: the link itself, a copy button and its QR code. */
export function SubscriptionLink({ url, qr }: { url: string; qr: string | null }) {
  const { t } = useI18n()
  return (
    <div className="subscription">
      <p className="subscription-url">
        <Ltr>
          <code className="mono" data-testid="subscription-url">
            {url}
          </code>
        </Ltr>{' '}
        <CopyButton text={url} />
      </p>
      {qr ? <QrCode src={qr} label={t.shop.accounts.qrLabel} /> : null}
    </div>
  )
}

/**
 * An order with its live progress. When it is delivered the subscription link appears at once (from the status
 * stream) and its QR code once the page data reloads.
 */
export function OrderView({
  order,
  status: initial,
  qr,
  accountHref,
  children,
}: {
  order: OrderViewData
  status: LiveStatus
  qr: string | null
  accountHref: (accountId: number) => string
  children?: ReactNode
}) {
  const { t, fmt, locale } = useI18n()
  const status = useLiveStatus(initial)
  return (
    <>
      <Card title={t.shop.order.title(fmt.number(order.id))}>
        <dl className="kv">
          <div>
            <dt>{t.orders.plan}</dt>
            <dd>{locale === 'fa' ? order.planNameFa : order.planNameEn}</dd>
          </div>
          {order.locationNameEn ? (
            <div>
              <dt>{t.panels.location}</dt>
              <dd>{locale === 'fa' ? order.locationNameFa : order.locationNameEn}</dd>
            </div>
          ) : null}
          <div>
            <dt>{t.orders.kind}</dt>
            <dd>{t.orders.kinds[order.kind]}</dd>
          </div>
          <div>
            <dt>{t.orders.price}</dt>
            <dd>{fmt.money(order.price)}</dd>
          </div>
          {order.requestedUsername ? (
            <div>
              <dt>{t.shop.newUser.label}</dt>
              <dd>{order.requestedUsername}</dd>
            </div>
          ) : null}
          <div>
            <dt>{t.common.created}</dt>
            <dd>{fmt.dateTime(order.createdAt)}</dd>
          </div>
        </dl>
        <StatusTracker status={status} payMethod={order.payMethod} />
        {!status.final ? <p className="muted">{t.live.followHint}</p> : null}
        {children}
      </Card>
      {status.step === 'delivered' && status.subscriptionUrl ? (
        <Card title={t.orders.subscription}>
          <SubscriptionLink url={status.subscriptionUrl} qr={qr} />
          {status.accountId ? (
            <p>
              <Link to={accountHref(status.accountId)}>{t.shop.order.openAccount}</Link>
            </p>
          ) : null}
        </Card>
      ) : null}
    </>
  )
}
