import type { CreditChangedSignal } from '#temporal/messages.ts'

/** Pure decisions of the agent credit watch (the 24-hour rule). */

/**
 * When the grace period ends, on the workflow's clock. `negativeForMs` is how long the credit has been negative as
 * measured by the database (when the watch starts late, e.g. after an outage, the time already spent counts).
 */
export function graceDeadline(now: number, graceMs: number, negativeForMs: number | null): number {
  return now + Math.max(0, graceMs - Math.max(0, negativeForMs ?? 0))
}

export function isNonNegative(usable: string): boolean {
  return BigInt(usable) >= 0n
}

/** Keeps the most recent credit report (signals can arrive out of order when several activities report at once). */
export function latestReport(current: CreditChangedSignal | null, incoming: CreditChangedSignal): CreditChangedSignal {
  if (!current) return incoming
  return Date.parse(incoming.at) >= Date.parse(current.at) ? incoming : current
}

/** Continue as new well before Temporal's history limits, carrying only what the next run needs. */
export function shouldContinueAsNew(historyLength: number, suggested: boolean): boolean {
  return suggested || historyLength > 5_000
}
