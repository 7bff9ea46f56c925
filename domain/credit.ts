import type { Money } from './money.ts'

/**
 * Credit rules, pure. A wallet has a `confirmed` and a `pending` balance; usable credit is their sum.
 * Agents (resellers) may sell on pending credit, so they spend usable credit. Everyone else spends
 * confirmed credit only and can never go below zero.
 */
export type WalletRole = 'admin' | 'agent' | 'customer'

export interface Balances {
  confirmed: Money
  pending: Money
}

export function usableCredit(b: Balances): Money {
  return b.confirmed + b.pending
}

/** What the holder may spend right now: usable credit for agents, confirmed credit for everyone else (never below 0). */
export function spendableCredit(role: WalletRole, b: Balances): Money {
  const available = role === 'agent' ? usableCredit(b) : b.confirmed
  return available > 0n ? available : 0n
}

export type DebitDecision =
  | { ok: true }
  | { ok: false; reason: 'NEGATIVE_CREDIT'; usable: Money }
  | { ok: false; reason: 'INSUFFICIENT_CREDIT'; required: Money; available: Money }

/**
 * May this wallet pay `amount` for an order? An agent whose usable credit is already negative may not
 * start any order (the 24-hour rule is running); otherwise the spendable credit must cover the price.
 */
export function decideDebit(role: WalletRole, b: Balances, amount: Money): DebitDecision {
  if (role === 'agent' && usableCredit(b) < 0n) return { ok: false, reason: 'NEGATIVE_CREDIT', usable: usableCredit(b) }
  const available = spendableCredit(role, b)
  if (available < amount) return { ok: false, reason: 'INSUFFICIENT_CREDIT', required: amount, available }
  return { ok: true }
}

/**
 * May an order of `amount` be placed now, paid from the wallet later by its workflow? As `decideDebit`, but the
 * wallet orders already placed and not yet debited (`reserved`) are spoken for: the debits they will make come
 * first, so placing this one must not promise credit the ledger will refuse it. `available` is what is left to spend.
 */
export function decidePlacement(role: WalletRole, b: Balances, reserved: Money, amount: Money): DebitDecision {
  if (role === 'agent' && usableCredit(b) < 0n) return { ok: false, reason: 'NEGATIVE_CREDIT', usable: usableCredit(b) }
  const left = spendableCredit(role, b) - reserved
  const available = left > 0n ? left : 0n
  if (available < amount) return { ok: false, reason: 'INSUFFICIENT_CREDIT', required: amount, available }
  return { ok: true }
}

/** How an entry moved usable credit across zero: the credit watch starts on `wentNegative` and ends on `backToNonNegative`. */
export function negativeTransition(before: Balances, after: Balances): { wentNegative: boolean; backToNonNegative: boolean } {
  const was = usableCredit(before)
  const now = usableCredit(after)
  return { wentNegative: was >= 0n && now < 0n, backToNonNegative: was < 0n && now >= 0n }
}

/**
 * Whether a non-agent wallet would end below zero. Customers never hold debt: their confirmed balance
 * stays >= 0 whatever the operation.
 */
export function breaksCustomerFloor(role: WalletRole, after: Balances): boolean {
  return role !== 'agent' && after.confirmed < 0n
}
