import { MAX_ID } from '#domain/ids.ts'
import { findTextProblem, storableText, TEXT_PROBLEM_MESSAGES } from '#domain/text.ts'
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

/** The longest ledger note a refund writes (the activity keeps 300 characters). */
const NOTE_MAX = 300

/**
 * What is wrong with a refund's input, checked before the panel is touched: once the panel user is gone the
 * reason goes into the ledger, and a value Postgres refuses there would strand the refund. Null when it is fine.
 */
export function refundInputProblem(input: { accountId: number; requestedBy: number; reason: string }): string | null {
  if (!Number.isInteger(input.accountId) || input.accountId <= 0 || input.accountId > MAX_ID) return `account id ${input.accountId} is not a row id`
  if (!Number.isInteger(input.requestedBy) || input.requestedBy <= 0 || input.requestedBy > MAX_ID) return `user id ${input.requestedBy} is not a row id`
  if (typeof input.reason !== 'string' || input.reason.trim() === '') return 'the reason is empty'
  const problem = findTextProblem(input.reason, 'singleLine')
  return problem ? `the reason ${TEXT_PROBLEM_MESSAGES[problem]}` : null
}

/** The ledger note of a refund: always storable, even for a workflow that started before its input was checked. */
export function refundNote(username: string, reason: string): string {
  return storableText(`account ${username} deleted: ${reason}`).slice(0, NOTE_MAX)
}
