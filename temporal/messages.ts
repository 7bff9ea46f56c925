import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow'

/**
 * Workflow names, inputs, signals, updates and queries: the contract between the web app / bot / CLI (which start,
 * signal, update and query) and the workflows. Money travels as decimal strings (JSON has no bigint).
 *
 * An update whose validator refuses it fails with an `ApplicationFailure` of the update's refusal type, whose first
 * detail is the typed refusal (`PaymentDecisionRefusal`, `OrderCancelRefusal`); read it with `updateRefusal`
 * (temporal/updates.ts).
 */
export const WORKFLOW_TYPES = {
  orderToProvision: 'orderToProvision',
  paymentApproval: 'paymentApproval',
  refundAccount: 'refundAccount',
  agentCreditWatch: 'agentCreditWatch',
  broadcast: 'broadcast',
  periodicPass: 'periodicPass',
  reconcilePass: 'reconcilePass',
} as const

// ---- order-to-provision ---------------------------------------------------------------------------
export interface OrderToProvisionInput {
  orderId: number
}
export type OrderStep =
  | 'queued'
  | 'awaiting_payment'
  | 'paying'
  | 'provisioning'
  | 'delivering'
  | 'delivered'
  | 'compensating'
  | 'refunded'
  | 'failed'
  | 'cancelled'
export interface OrderStatus {
  orderId: number
  step: OrderStep
  /** Provisioning attempt, 1-based; 0 before provisioning starts. */
  attempt: number
  lastError: string | null
  accountId: number | null
  subscriptionUrl: string | null
  /** When paying by receipt or gateway: the payment this order waits on. */
  paymentId: number | null
}
export interface CancelOrderSignal {
  reason: string
  actorUserId: number | null
}
/**
 * The cancel of workflows started before `cancelOrderUpdate`: nothing sends it any more, but the handler stays
 * registered so that those workflows and their recorded histories still replay.
 */
export const cancelOrderSignal = defineSignal<[CancelOrderSignal]>('cancelOrder')
export type CancelOrderInput = CancelOrderSignal
/** What `cancelOrderUpdate` answers once the order is cancelled and anything debited is back in the wallet. */
export interface OrderCancelled {
  orderId: number
  outcome: 'cancelled'
  /** Amount given back to the wallet, decimal string ('0' when nothing was debited). */
  refunded: string
  reason: string
  cancelledBy: number | null
  cancelledAt: string
}
/** Why an order cannot be cancelled (any more). */
export type OrderCancelRefusal =
  | { reason: 'already_cancelled'; orderId: number; cancelledBy: number | null; cancelledAt: string | null }
  | { reason: 'too_late'; orderId: number; state: 'delivered' | 'refunded' | 'failed' }
/** ApplicationFailure type of a refused `cancelOrderUpdate`; its first detail is the `OrderCancelRefusal`. */
export const ORDER_CANCEL_REFUSED = 'OrderCancelRefused'
/**
 * Cancels an order that is not delivered yet. The validator refuses a cancel that comes too late or twice; an
 * accepted cancel answers when the order is cancelled and its debit refunded (the clean-up of a half-made panel
 * user may still be running).
 */
export const cancelOrderUpdate = defineUpdate<OrderCancelled, [CancelOrderInput]>('cancelOrderUpdate')
/** Sent by the payment workflow to the order waiting on it. */
export interface PaymentOutcomeSignal {
  paymentId: number
  outcome: 'APPROVED' | 'REJECTED' | 'EXPIRED'
  note: string | null
}
export const paymentOutcomeSignal = defineSignal<[PaymentOutcomeSignal]>('paymentOutcome')
/** Asks a retrying provisioning step to try again now instead of after its backoff. */
export const retryNowSignal = defineSignal('retryNow')
export const orderStatusQuery = defineQuery<OrderStatus>('orderStatus')
/** What `orderToProvision` returns when it delivers or is cancelled; a failed order fails the workflow (`OrderFailed`). */
export interface OrderResult {
  orderId: number
  outcome: 'delivered' | 'cancelled'
  accountId: number | null
  subscriptionUrl: string | null
  /** Amount given back to the wallet, decimal string ('0' when nothing was debited). */
  refunded: string
  reason: string | null
}
/** ApplicationFailure type of a workflow that ended an order as failed (after its compensation ran). */
export const ORDER_FAILED = 'OrderFailed'

// ---- payment approval -----------------------------------------------------------------------------
export interface PaymentApprovalInput {
  paymentId: number
}
export interface DecidePaymentSignal {
  decision: 'approve' | 'reject'
  adminId: number
  note: string | null
}
/**
 * The decision of workflows started before `decidePaymentUpdate`: nothing sends it any more, but the handler stays
 * registered so that those workflows and their recorded histories still replay.
 */
export const decidePaymentSignal = defineSignal<[DecidePaymentSignal]>('decidePayment')
export type DecidePaymentInput = DecidePaymentSignal
/** What `decidePaymentUpdate` answers once the decision's ledger move is done. */
export interface PaymentDecided {
  paymentId: number
  outcome: 'approved' | 'rejected'
  decidedBy: number
  decidedAt: string
  note: string | null
  /** Usable credit of the payer after the ledger move, decimal string. */
  balanceAfter: string
}
/** Why an admin's decision on a payment is refused. `decidedBy` null: the gateway decided it. */
export type PaymentDecisionRefusal =
  | { reason: 'already_decided'; paymentId: number; decision: 'approved' | 'rejected'; decidedBy: number | null; decidedAt: string | null; note: string | null }
  | { reason: 'expired'; paymentId: number; expiredAt: string }
  | { reason: 'paid_online'; paymentId: number }
/** ApplicationFailure type of a refused `decidePaymentUpdate`; its first detail is the `PaymentDecisionRefusal`. */
export const PAYMENT_DECISION_REFUSED = 'PaymentDecisionRefused'
/**
 * An admin approves or rejects a receipt. The first decision wins: the validator refuses a second one (saying who
 * decided, how and when), a decision after expiry, and any decision on a gateway payment. An accepted decision
 * answers when its ledger move is done, with the payer's usable credit after it.
 */
export const decidePaymentUpdate = defineUpdate<PaymentDecided, [DecidePaymentInput]>('decidePaymentUpdate')
/** A gateway (Zarinpal) callback that verified the payment: credits a gateway payment. */
export interface GatewayVerifiedSignal {
  authority: string
  refId: string
  amount: string
}
export const gatewayVerifiedSignal = defineSignal<[GatewayVerifiedSignal]>('gatewayVerified')
export interface PaymentStatus {
  paymentId: number
  status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED'
  decidedBy: number | null
  decidedAt: string | null
  note: string | null
  remindersSent: number
  expiresAt: string
  /** Usable credit of the payer after the decision, as a decimal string. */
  balanceAfter: string | null
  /** Who confirms it: an admin (a receipt) or the gateway (an online payment, never decided by an admin). */
  confirmedBy?: 'admin' | 'gateway'
}
export const paymentStatusQuery = defineQuery<PaymentStatus>('paymentStatus')
export type PaymentResult = PaymentStatus

// ---- refund ---------------------------------------------------------------------------------------
export interface RefundAccountInput {
  accountId: number
  requestedBy: number
  reason: string
}
export interface RefundStatus {
  accountId: number
  step: 'quoting' | 'removing' | 'refunding' | 'done' | 'failed'
  amount: string | null
  lastError: string | null
}
export const refundStatusQuery = defineQuery<RefundStatus>('refundStatus')
export interface RefundResult {
  accountId: number
  /** Decimal string. */
  amount: string
  rule: string
  panelAction: 'delete' | 'disable'
}

// ---- agent credit watch (the 24-hour rule) --------------------------------------------------------
export interface AgentCreditWatchInput {
  agentUserId: number
  /** Set only when the watch continues as new: the accounts it has disabled so far. */
  carry?: { disabledAccountIds: number[] }
}
export interface CreditChangedSignal {
  /** Usable credit (confirmed + pending) after the change, decimal string. */
  usable: string
  at: string
}
export const creditChangedSignal = defineSignal<[CreditChangedSignal]>('creditChanged')
export interface CreditWatchStatus {
  agentUserId: number
  phase: 'watching' | 'disabled' | 'restored' | 'cleared'
  negativeSince: string | null
  deadline: string | null
  disabledAccountIds: number[]
}
export const creditWatchStatusQuery = defineQuery<CreditWatchStatus>('creditWatchStatus')
export interface CreditWatchResult {
  agentUserId: number
  outcome: 'cleared' | 'restored'
  disabledAccountIds: number[]
  reEnabledAccountIds: number[]
}

// ---- periodic maintenance -------------------------------------------------------------------------
/**
 * Periodic work runs from a Temporal schedule (see docs/decisions/010-periodic-work-as-schedules.md) that starts one
 * short `periodicPass` workflow per interval. The schedule's id is also the base of every pass's workflow id: Temporal
 * appends the scheduled time (`periodic-maintenance-2026-12-04T10:10:00Z`).
 */
export const PERIODIC_SCHEDULE_ID = 'periodic-maintenance'
/** No fields yet: an object, so that fields can be added without changing the workflow's signature. */
export type PeriodicPassInput = Record<string, never>
/** What one pass did: the result of `periodicPass`, which the status pages read back from Temporal. */
export interface PeriodicPassSummary {
  at: string
  panelsChecked: number
  panelsHealthy: number
  accountsSynced: number
  warningsSent: number
  /** Panels that could not be read this pass, with the reason. */
  problems: string[]
}

// ---- reconciliation -------------------------------------------------------------------------------
/**
 * The schedule that finds work whose workflow was lost (see docs/decisions/011-reconciler.md) and starts one short
 * `reconcilePass` per interval; as with periodic maintenance, its id is the base of every pass's workflow id.
 */
export const RECONCILE_SCHEDULE_ID = 'reconcile'
export interface ReconcilePassInput {
  /** Rows younger than this are left alone: the request that wrote them may still be starting their workflow. */
  minAgeMs?: number
}
/** One thing a pass did: the same facts its audit row keeps. */
export interface ReconciledItem {
  kind: 'order' | 'payment' | 'refund' | 'broadcast'
  id: number
  workflowId: string
  /** How the workflow was found: missing, or closed (completed, failed, terminated, cancelled, timed_out). */
  found: string
  action: 'restarted' | 'settled'
  /** For a settlement: how the row ends (delivered, failed, APPROVED, done, …). */
  outcome: string | null
  /** Money given back by the settlement, decimal string; '0' when none. */
  refunded: string
  why: string
}
export interface ReconcilePassSummary {
  at: string
  /** Rows in a non-final state that were looked at. */
  checked: number
  reconciled: ReconciledItem[]
  /** Rows that could not be reconciled this pass, with the reason; the next pass tries again. */
  problems: string[]
}
