import type { DecidePaymentSignal, PaymentDecisionRefusal, PaymentStatus } from '#temporal/messages.ts'

/** Pure decisions of the payment approval workflow. */

/** When to remind admins: each configured offset after the start, once, and only before the payment expires. */
export function reminderTimes(startedAt: number, offsetsMs: readonly number[], expiresAt: number): number[] {
  return [...new Set(offsetsMs)]
    .filter((ms) => ms > 0)
    .sort((a, b) => a - b)
    .map((ms) => startedAt + ms)
    .filter((at) => at < expiresAt)
}

export type PaymentOutcome = Exclude<PaymentStatus['status'], 'PENDING'>

export function outcomeOf(decision: Pick<DecidePaymentSignal, 'decision'> | null): PaymentOutcome {
  if (!decision) return 'EXPIRED'
  return decision.decision === 'approve' ? 'APPROVED' : 'REJECTED'
}

/** Whole hours a payment has waited, for the reminder text. */
export function hoursWaiting(startedAt: number, now: number): number {
  return Math.max(0, Math.floor((now - startedAt) / 3_600_000))
}

/** The first decision wins; later ones (a second admin, a repeated button press) change nothing. */
export function acceptDecision(current: DecidePaymentSignal | null, incoming: DecidePaymentSignal, closed: boolean): DecidePaymentSignal | null {
  if (current || closed) return current
  if (incoming.decision !== 'approve' && incoming.decision !== 'reject') return current
  return incoming
}

/** What the payment workflow knows when an admin's decision arrives. */
export interface DecisionState {
  paymentId: number
  /** Unknown until the workflow has loaded the payment. */
  confirmedBy: 'admin' | 'gateway' | undefined
  /** The decision taken so far (an admin's, or a gateway verification of a receipt) and when it was taken. */
  decision: DecidePaymentSignal | null
  decidedAt: string | null
  /** The decision went to the ledger, or the payment expired or was finished before the workflow ran. */
  closed: boolean
  status: Pick<PaymentStatus, 'status' | 'decidedBy' | 'decidedAt' | 'expiresAt' | 'note'>
}

/**
 * Why an admin's decision is refused, or null when it is the first one on a receipt still waiting for one. A
 * decision from a gateway verification has no admin (`decidedBy` null).
 */
export function refuseDecision(state: DecisionState): PaymentDecisionRefusal | null {
  const { paymentId } = state
  if (state.confirmedBy === 'gateway') return { reason: 'paid_online', paymentId }
  if (state.decision) {
    return {
      reason: 'already_decided',
      paymentId,
      decision: state.decision.decision === 'approve' ? 'approved' : 'rejected',
      decidedBy: state.decision.adminId > 0 ? state.decision.adminId : null,
      decidedAt: state.decidedAt,
      note: state.decision.note,
    }
  }
  if (!state.closed) return null
  const { status } = state
  if (status.status === 'APPROVED' || status.status === 'REJECTED') {
    const decision = status.status === 'APPROVED' ? 'approved' : 'rejected'
    return { reason: 'already_decided', paymentId, decision, decidedBy: status.decidedBy, decidedAt: status.decidedAt, note: status.note }
  }
  return { reason: 'expired', paymentId, expiredAt: status.expiresAt }
}

/**
 * How a payment is confirmed. A receipt (card to card, SHEBA, crypto) is pending credit at once and waits for an
 * admin, who is asked and reminded. An online gateway payment (Zarinpal) is confirmed by the gateway's
 * server-to-server verification only: nothing is credited before it, no admin is asked, and an admin's decision
 * on it is refused. It expires after the gateway window rather than the receipt expiry.
 */
export interface PaymentFlow {
  confirmedBy: 'admin' | 'gateway'
  pendingCreditAtStart: boolean
  askAdmins: boolean
  adminMayDecide: boolean
  expiryMs: number
}

export function paymentFlow(methodKind: string, config: { receiptExpiryMs: number; gatewayWindowMs: number }): PaymentFlow {
  if (methodKind === 'ZARINPAL') {
    return { confirmedBy: 'gateway', pendingCreditAtStart: false, askAdmins: false, adminMayDecide: false, expiryMs: config.gatewayWindowMs }
  }
  return { confirmedBy: 'admin', pendingCreditAtStart: true, askAdmins: true, adminMayDecide: true, expiryMs: config.receiptExpiryMs }
}
