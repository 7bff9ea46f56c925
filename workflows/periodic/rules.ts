/** Pure decisions of the periodic maintenance workflow (also used by its sync activity). */

export const DAY_MS = 86_400_000
export const TRAFFIC_WARNING_PERCENT = 80
export const EXPIRY_WARNING_MS = 3 * DAY_MS

export interface AccountUsage {
  accountId: number
  status: string
  /** 0 means unlimited. */
  dataLimitBytes: bigint
  dataUsedBytes: bigint
  /** Epoch ms or null. */
  expiresAt: number | null
}

export interface UsageWarning {
  warning: 'traffic80' | 'expiry3d'
  /**
   * Send-once key. It includes the limit (traffic) or the expiry (time), so a renewal, which changes them, allows
   * a fresh warning for the new term while repeated syncs of one term never warn twice.
   */
  key: string
  usedPercent: number
}

/** Warnings an active account is due: 80 % of its traffic used, or expiry within three days. */
export function usageWarnings(account: AccountUsage, now: number): UsageWarning[] {
  if (account.status !== 'active') return []
  const out: UsageWarning[] = []
  const usedPercent = account.dataLimitBytes > 0n ? Number((account.dataUsedBytes * 100n) / account.dataLimitBytes) : 0
  if (account.dataLimitBytes > 0n && account.dataUsedBytes * 100n >= account.dataLimitBytes * BigInt(TRAFFIC_WARNING_PERCENT)) {
    out.push({ warning: 'traffic80', key: `warn:traffic80:${account.accountId}:${account.dataLimitBytes}`, usedPercent: Math.min(usedPercent, 100) })
  }
  if (account.expiresAt !== null && account.expiresAt > now && account.expiresAt - now <= EXPIRY_WARNING_MS) {
    out.push({ warning: 'expiry3d', key: `warn:expiry3d:${account.accountId}:${new Date(account.expiresAt).toISOString()}`, usedPercent })
  }
  return out
}
