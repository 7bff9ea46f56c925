import type { RefundStatus } from '#temporal/messages.ts'
import { backoffDelay, type BackoffPolicy } from '../order/rules.ts'

/** Pure decisions of the refund workflow. */

/** Waiting for an unreachable panel: 10 s, 20 s, 40 s … up to 10 minutes between tries, for as long as it takes. */
export const PANEL_WAIT_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 10 * 60_000, factor: 2 }

export function panelWaitDelay(attempt: number): number {
  return backoffDelay(attempt, PANEL_WAIT_BACKOFF)
}

export type RefundStep = RefundStatus['step']

export interface RefundPlanView {
  alreadyDeleted: boolean
  amount: string
  allocations: { orderId: number; amount: string }[]
}

/**
 * What the refund does. An account already deleted is not paid twice; money goes back only after the panel
 * confirmed the account no longer works, split over the orders that paid for it.
 */
export function refundSteps(plan: RefundPlanView): { removeFromPanel: boolean; payments: { orderId: number; amount: string }[] } {
  if (plan.alreadyDeleted) return { removeFromPanel: false, payments: [] }
  return { removeFromPanel: true, payments: plan.allocations.filter((a) => BigInt(a.amount) > 0n) }
}
