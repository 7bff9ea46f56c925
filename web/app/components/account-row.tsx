import { StatusBadge } from '~/components/page.tsx'
import { daysLeft } from '~/components/usage-bar.tsx'
import { useI18n } from '~/utils/root-data.ts'

/** An account's status badge, with why it was disabled when it was. */
export function AccountStatus({ status, reason }: { status: 'active' | 'disabled' | 'limited' | 'expired' | 'deleted'; reason: string | null }) {
  const { t } = useI18n()
  const reasons = t.orders.reasons as Record<string, string>
  return (
    <>
      <StatusBadge status={status} label={t.orders.accountStatuses[status]} />
      {status === 'disabled' && reason ? <small className="muted"> {reasons[reason] ?? reason}</small> : null}
    </>
  )
}

/** "12 days left", "expired" or "no expiry". */
export function DaysLeft({ expiresAt }: { expiresAt: string | Date | null }) {
  const { t, fmt } = useI18n()
  const days = daysLeft(expiresAt)
  if (days === null) return <span>{t.shop.accounts.noExpiry}</span>
  if (days === 0) return <span className="negative">{t.orders.accountStatuses.expired}</span>
  return <span title={fmt.dateTime(expiresAt)}>{t.shop.accounts.daysLeft(fmt.number(days))}</span>
}
