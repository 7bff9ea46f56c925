import { useI18n } from '~/utils/root-data.ts'

/** Traffic used of the limit (0 = unlimited), as a bar and as text. Byte counts arrive as decimal strings. */
export function UsageBar({ usedBytes, limitBytes }: { usedBytes: string; limitBytes: string }) {
  const { t, fmt } = useI18n()
  const used = BigInt(usedBytes)
  const limit = BigInt(limitBytes)
  const percent = limit > 0n ? Number((used * 1000n) / limit) / 10 : 0
  const shown = Math.min(100, percent)
  return (
    <div className="usage">
      {limit > 0n ? (
        <div className="usage-bar" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(shown)} aria-label={t.orders.usage}>
          <span style={{ width: `${shown}%` }} className={percent >= 90 ? 'usage-high' : undefined} />
        </div>
      ) : null}
      <small className="muted">
        {fmt.bytes(used)} / {limit > 0n ? fmt.bytes(limit) : t.common.unlimited}
      </small>
    </div>
  )
}

/** Whole days until `expiresAt` (0 once it has passed); null when the account never expires. */
export function daysLeft(expiresAt: string | Date | null, now = Date.now()): number | null {
  if (expiresAt === null) return null
  const ms = new Date(expiresAt).getTime() - now
  return ms <= 0 ? 0 : Math.ceil(ms / 86_400_000)
}
