import type { Money } from './money.ts'

/**
 * Prices and account terms, pure. Times are epoch milliseconds (workflow code has no `Date` it may trust
 * beyond `Date.now()`, which Temporal makes deterministic), byte counts are bigints.
 */
export type BuyerRole = 'admin' | 'agent' | 'customer'

export interface PlanPrices {
  price: Money
  agentPrice: Money
}

/** Agents (resellers) pay the agent price on every order, renewals included; everyone else pays the public price. */
export function priceForRole(role: BuyerRole, plan: PlanPrices): Money {
  return role === 'agent' ? plan.agentPrice : plan.price
}

export const DAY_MS = 86_400_000
export const BYTES_PER_GB = 1024n ** 3n

/**
 * Converts a size in GB as typed by a person (`50`, `0.5`, `۱۰`) to bytes. Up to three decimals; 0 means unlimited.
 * Throws a user-facing message on anything else.
 */
export function gbToBytes(text: string | number): bigint {
  const ascii = String(text)
    .trim()
    .replace(/[۰-۹]/g, (d) => String('۰۱۲۳۴۵۶۷۸۹'.indexOf(d)))
  const m = /^(\d+)(?:\.(\d{1,3}))?$/.exec(ascii)
  if (!m) throw new Error(`"${text}" is not a size in GB (use e.g. 50 or 0.5; 0 means unlimited)`)
  const whole = BigInt(m[1]!)
  const frac = BigInt((m[2] ?? '').padEnd(3, '0'))
  return whole * BYTES_PER_GB + (frac * BYTES_PER_GB) / 1000n
}

export function bytesToGb(bytes: bigint): string {
  const thousandths = (bytes * 1000n) / BYTES_PER_GB
  const whole = thousandths / 1000n
  const frac = thousandths % 1000n
  return frac === 0n ? whole.toString() : `${whole}.${frac.toString().padStart(3, '0').replace(/0+$/, '')}`
}

export interface AccountTerms {
  expiresAt: number
  /** 0 means unlimited traffic. */
  dataLimitBytes: bigint
}

/** Terms of a new account: the plan's days from now, the plan's traffic. */
export function newAccountTerms(now: number, plan: { days: number; dataLimitBytes: bigint }): AccountTerms {
  return { expiresAt: now + plan.days * DAY_MS, dataLimitBytes: plan.dataLimitBytes }
}

export interface CurrentTerms {
  /** null when the panel has no expiry for the account. */
  expiresAt: number | null
  dataLimitBytes: bigint
  dataUsedBytes: bigint
}

/**
 * Terms after a renewal or extension: days are added to the later of now and the current expiry (an expired
 * account restarts from now, a running one keeps its remaining days), and traffic is added to what remains
 * (carry-over: the panel's limit counts used bytes, so the new limit is the old one plus the plan's traffic).
 * Unlimited stays unlimited; a plan with unlimited traffic makes the account unlimited.
 */
export function renewalTerms(now: number, current: CurrentTerms, plan: { days: number; dataLimitBytes: bigint }): AccountTerms {
  const base = current.expiresAt !== null && current.expiresAt > now ? current.expiresAt : now
  const unlimited = current.dataLimitBytes === 0n || plan.dataLimitBytes === 0n
  let dataLimitBytes = 0n
  if (!unlimited) {
    // Traffic already over the limit does not eat into the new plan: carry over only what remains.
    const remaining = current.dataLimitBytes > current.dataUsedBytes ? current.dataLimitBytes - current.dataUsedBytes : 0n
    dataLimitBytes = current.dataUsedBytes + remaining + plan.dataLimitBytes
  }
  return { expiresAt: base + plan.days * DAY_MS, dataLimitBytes }
}
