import type { ReactNode } from 'react'
import { AccountStatus, DaysLeft } from '~/components/account-row.tsx'
import { SubscriptionLink } from '~/components/order-view.tsx'
import { Card, Ltr } from '~/components/page.tsx'
import { LiveStatusTracker, type LiveStatus } from '~/components/status-tracker.tsx'
import { UsageBar } from '~/components/usage-bar.tsx'
import { useI18n } from '~/utils/root-data.ts'

export interface AccountDetailsData {
  id: number
  planId: number
  panelUsername: string
  label: string | null
  orderNote: string | null
  planNameFa: string
  planNameEn: string
  locationNameFa: string
  locationNameEn: string
  subscriptionUrl: string | null
  expiresAt: string | Date | null
  dataLimitBytes: string
  dataUsedBytes: string
  status: 'active' | 'disabled' | 'limited' | 'expired' | 'deleted'
  disabledReason: string | null
  usageSyncedAt: string | Date | null
  createdAt: string | Date
}

/** One account: status, usage, days left, its subscription link with copy and QR, and a refund in progress. */
export function AccountDetails({ account, qr, refund, children }: { account: AccountDetailsData; qr: string | null; refund: LiveStatus | null; children?: ReactNode }) {
  const { t, fmt, locale } = useI18n()
  return (
    <>
      <Card title={t.orders.accountTitle(account.panelUsername)}>
        <dl className="kv">
          {account.label ? (
            <div>
              <dt>{t.shop.newUser.label}</dt>
              <dd>{account.label}</dd>
            </div>
          ) : null}
          <div>
            <dt>{t.orders.username}</dt>
            <dd>
              <Ltr>{account.panelUsername}</Ltr>
            </dd>
          </div>
          <div>
            <dt>{t.orders.plan}</dt>
            <dd>{locale === 'fa' ? account.planNameFa : account.planNameEn}</dd>
          </div>
          <div>
            <dt>{t.panels.location}</dt>
            <dd>{locale === 'fa' ? account.locationNameFa : account.locationNameEn}</dd>
          </div>
          <div>
            <dt>{t.common.status}</dt>
            <dd data-testid="account-status">
              <AccountStatus status={account.status} reason={account.disabledReason} />
            </dd>
          </div>
          <div>
            <dt>{t.orders.usage}</dt>
            <dd>
              <UsageBar usedBytes={account.dataUsedBytes} limitBytes={account.dataLimitBytes} />
              {account.usageSyncedAt ? <small className="muted">{t.shop.accounts.syncedAt(fmt.dateTime(account.usageSyncedAt))}</small> : null}
            </dd>
          </div>
          <div>
            <dt>{t.orders.expires}</dt>
            <dd>
              <DaysLeft expiresAt={account.expiresAt} /> {account.expiresAt ? <small className="muted">({fmt.dateTime(account.expiresAt)})</small> : null}
            </dd>
          </div>
          {account.orderNote ? (
            <div>
              <dt>{t.common.note}</dt>
              <dd>{account.orderNote}</dd>
            </div>
          ) : null}
        </dl>
        {refund ? (
          <>
            <h3>{t.shop.accounts.refundTitle}</h3>
            <LiveStatusTracker initial={refund} />
          </>
        ) : null}
      </Card>
      {account.subscriptionUrl && account.status !== 'deleted' ? (
        <section id="link">
          <Card title={t.orders.subscription}>
            <SubscriptionLink url={account.subscriptionUrl} qr={qr} />
          </Card>
        </section>
      ) : null}
      {children}
    </>
  )
}
