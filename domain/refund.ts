import type { Money } from './money.ts'

/**
 * The refund policy for deleting (or cancelling) an account, pure. The quote is what a person sees before
 * confirming and what the refund workflow pays.
 *
 * - Within `fullRefundWindowMs` of delivery and with less than `fullRefundMaxTrafficBps` of the traffic used:
 *   the whole price.
 * - Otherwise prorated by the larger of the used-time and used-traffic fractions (the house rounds in its favour
 *   by at most one minor unit).
 * - Nothing once the account has expired, or its traffic is used up.
 */
export interface RefundPolicy {
  fullRefundWindowMs: number
  /** Traffic used, in basis points (1/100 of a percent) of the limit, under which the window refund applies. */
  fullRefundMaxTrafficBps: number
  /** What happens on the panel: the user is deleted, or only disabled (kept for audit). */
  panelAction: 'delete' | 'disable'
}

export const DEFAULT_REFUND_POLICY: RefundPolicy = {
  fullRefundWindowMs: 24 * 3_600_000,
  fullRefundMaxTrafficBps: 500,
  panelAction: 'delete',
}

export interface RefundInput {
  /** What was paid for the current term (the sum of the delivered orders on the account). */
  paid: Money
  /** When the current term started (the account's delivery). */
  startedAt: number
  /** null: no expiry on the panel. */
  expiresAt: number | null
  now: number
  /** 0 means unlimited traffic. */
  dataLimitBytes: bigint
  dataUsedBytes: bigint
}

export type RefundRule = 'full_window' | 'prorated' | 'expired' | 'traffic_used_up' | 'nothing_paid'

export interface RefundQuote {
  amount: Money
  rule: RefundRule
  usedTimeBps: number
  usedTrafficBps: number
}

const FULL = 10_000n

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b
}

function clampBps(v: bigint): number {
  return Number(v < 0n ? 0n : v > FULL ? FULL : v)
}

export function usedTimeBps(input: Pick<RefundInput, 'startedAt' | 'expiresAt' | 'now'>): number {
  if (input.expiresAt === null) return 0
  const total = BigInt(Math.max(1, input.expiresAt - input.startedAt))
  const elapsed = BigInt(Math.max(0, input.now - input.startedAt))
  return clampBps(ceilDiv(elapsed * FULL, total))
}

export function usedTrafficBps(input: Pick<RefundInput, 'dataLimitBytes' | 'dataUsedBytes'>): number {
  if (input.dataLimitBytes <= 0n) return 0
  return clampBps(ceilDiv(input.dataUsedBytes * FULL, input.dataLimitBytes))
}

export function validateRefundPolicy(policy: RefundPolicy): RefundPolicy {
  if (!Number.isFinite(policy.fullRefundWindowMs) || policy.fullRefundWindowMs < 0) {
    throw new Error('refund policy: fullRefundWindowMs must be 0 or more')
  }
  if (!Number.isInteger(policy.fullRefundMaxTrafficBps) || policy.fullRefundMaxTrafficBps < 0 || policy.fullRefundMaxTrafficBps > 10_000) {
    throw new Error('refund policy: fullRefundMaxTrafficBps must be a whole number from 0 to 10000')
  }
  if (policy.panelAction !== 'delete' && policy.panelAction !== 'disable') {
    throw new Error('refund policy: panelAction must be "delete" or "disable"')
  }
  return policy
}

export function quoteRefund(input: RefundInput, policy: RefundPolicy = DEFAULT_REFUND_POLICY): RefundQuote {
  const time = usedTimeBps(input)
  const traffic = usedTrafficBps(input)
  const base = { usedTimeBps: time, usedTrafficBps: traffic }
  if (input.paid <= 0n) return { amount: 0n, rule: 'nothing_paid', ...base }
  if (input.expiresAt !== null && input.now >= input.expiresAt) return { amount: 0n, rule: 'expired', ...base }
  if (traffic >= 10_000) return { amount: 0n, rule: 'traffic_used_up', ...base }
  if (input.now - input.startedAt <= policy.fullRefundWindowMs && traffic < policy.fullRefundMaxTrafficBps) {
    return { amount: input.paid, rule: 'full_window', ...base }
  }
  const used = BigInt(Math.max(time, traffic))
  return { amount: (input.paid * (FULL - used)) / FULL, rule: 'prorated', ...base }
}
