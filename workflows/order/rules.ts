import type { CancelOrderSignal, OrderCancelRefusal, OrderStep, PaymentOutcomeSignal } from '#temporal/messages.ts'
import type { FailureInfo } from '../shared/failure.ts'

/** Pure decisions of the order-to-provision workflow. */

export interface BackoffPolicy {
  initialMs: number
  maxMs: number
  factor: number
}

/** Backoff between provisioning attempts: 5 s, 10 s, 20 s, 40 s, then every minute until the deadline. */
export const PROVISION_BACKOFF: BackoffPolicy = { initialMs: 5_000, maxMs: 60_000, factor: 2 }

/** Delay after failed attempt number `attempt` (1-based). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = PROVISION_BACKOFF): number {
  const n = Math.max(1, Math.floor(attempt))
  return Math.min(policy.maxMs, Math.round(policy.initialMs * policy.factor ** (n - 1)))
}

export type ProvisionNext = { action: 'retry'; waitMs: number } | { action: 'give_up'; reason: string }

/**
 * After a failed provisioning attempt: retry after the backoff (never sleeping past the deadline), or give up
 * when the error cannot be fixed by retrying or the deadline has passed.
 */
export function afterProvisionFailure(
  input: { now: number; deadline: number; attempt: number; failure: FailureInfo; deadlineMs: number },
  policy: BackoffPolicy = PROVISION_BACKOFF,
): ProvisionNext {
  if (input.failure.nonRetryable) {
    return { action: 'give_up', reason: `The account could not be created: ${input.failure.message}` }
  }
  const left = input.deadline - input.now
  if (left <= 0) {
    return {
      action: 'give_up',
      reason: `The account could not be created within ${formatDuration(input.deadlineMs)} (${input.attempt} attempts). Last error: ${input.failure.message}`,
    }
  }
  return { action: 'retry', waitMs: Math.min(backoffDelay(input.attempt, policy), left) }
}

/** A payment's outcome decides whether a receipt-paid order goes on. */
export function afterPaymentOutcome(outcome: PaymentOutcomeSignal): { proceed: true } | { proceed: false; reason: string } {
  if (outcome.outcome === 'APPROVED') return { proceed: true }
  const what = outcome.outcome === 'REJECTED' ? 'was rejected' : 'expired before anyone reviewed it'
  return { proceed: false, reason: `Payment #${outcome.paymentId} ${what}${outcome.note ? `: ${outcome.note}` : ''}. Nothing was charged.` }
}

/**
 * Why a cancel is refused, or null when the order can still be cancelled: a second cancel says who cancelled and
 * when; from delivery on (`delivered` is set before the account is stored) and once the order failed it is too late.
 */
export function refuseCancel(input: {
  orderId: number
  step: OrderStep
  delivered: boolean
  cancel: CancelOrderSignal | null
  cancelledAt: string | null
}): OrderCancelRefusal | null {
  const { orderId, step } = input
  if (input.cancel) return { reason: 'already_cancelled', orderId, cancelledBy: input.cancel.actorUserId, cancelledAt: input.cancelledAt }
  if (step === 'cancelled') return { reason: 'already_cancelled', orderId, cancelledBy: null, cancelledAt: null }
  if (input.delivered || step === 'delivering' || step === 'delivered') return { reason: 'too_late', orderId, state: 'delivered' }
  if (step === 'refunded') return { reason: 'too_late', orderId, state: 'refunded' }
  // Compensating without a cancel: the order is failing.
  if (step === 'failed' || step === 'compensating') return { reason: 'too_late', orderId, state: 'failed' }
  return null
}

/** The orders.status written for each workflow step (the table has coarser states than the live status). */
export function orderRowStatus(step: OrderStep): 'pending' | 'awaiting_payment' | 'provisioning' | 'delivered' | 'failed' | 'cancelled' {
  switch (step) {
    case 'queued':
      return 'pending'
    case 'awaiting_payment':
      return 'awaiting_payment'
    case 'paying':
    case 'provisioning':
    case 'delivering':
    case 'compensating':
      return 'provisioning'
    case 'delivered':
      return 'delivered'
    case 'cancelled':
      return 'cancelled'
    case 'failed':
    case 'refunded':
      return 'failed'
  }
}

export interface CompensationInput {
  /** The wallet was debited for the order (ORDER_DEBIT happened). */
  debited: boolean
  /** Panels a create was sent to (the user may exist there even if the answer was lost). */
  panelsTouched: number[]
  /** For renewals: whether new terms may have reached the panel. */
  renewalTouched: boolean
}

export type CompensationStep = { kind: 'refund' } | { kind: 'delete_panel_user'; panelId: number } | { kind: 'restore_terms' }

/**
 * What to undo, in order. The money goes back first: the buyer never received a link, and a panel that is down
 * must not hold up their refund; the half-made panel user is removed afterwards, retrying until the panel answers.
 */
export function compensationPlan(input: CompensationInput): CompensationStep[] {
  const steps: CompensationStep[] = []
  if (input.debited) steps.push({ kind: 'refund' })
  for (const panelId of [...new Set(input.panelsTouched)]) steps.push({ kind: 'delete_panel_user', panelId })
  if (input.renewalTouched) steps.push({ kind: 'restore_terms' })
  return steps
}

/** Panels that got a create but did not end up holding the delivered account: their strays are removed. */
export function strayPanels(panelsTouched: number[], deliveredOn: number): number[] {
  return [...new Set(panelsTouched)].filter((id) => id !== deliveredOn)
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`
  if (ms % 60_000 === 0) return `${ms / 60_000} min`
  return `${Math.round(ms / 1000)} s`
}
