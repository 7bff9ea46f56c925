import { defineQuery, defineSignal } from '@temporalio/workflow'

/**
 * Workflow names, inputs, signals and queries: the contract between the web app / bot (which start, signal
 * and query) and the workflows. Money travels as decimal strings (JSON has no bigint).
 */
export const WORKFLOW_TYPES = {
  orderToProvision: 'orderToProvision',
  paymentApproval: 'paymentApproval',
  refundAccount: 'refundAccount',
  agentCreditWatch: 'agentCreditWatch',
  broadcast: 'broadcast',
  periodicMaintenance: 'periodicMaintenance',
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
export const cancelOrderSignal = defineSignal<[CancelOrderSignal]>('cancelOrder')
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
export const decidePaymentSignal = defineSignal<[DecidePaymentSignal]>('decidePayment')
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
/** One long-running workflow (see docs/decisions/*-periodic-work.md); it continues as new to bound its history. */
export const PERIODIC_WORKFLOW_ID = 'periodic-maintenance'
export interface PeriodicMaintenanceInput {
  /** Passes done by earlier runs of the chain (continue-as-new), for the status only. */
  passesBefore?: number
}
export interface PeriodicPassSummary {
  at: string
  panelsChecked: number
  panelsHealthy: number
  accountsSynced: number
  warningsSent: number
  /** Panels that could not be read this pass, with the reason. */
  problems: string[]
}
export interface PeriodicStatus {
  passes: number
  phase: 'checking_health' | 'syncing' | 'sleeping'
  nextPassAt: string | null
  lastPass: PeriodicPassSummary | null
}
export const periodicStatusQuery = defineQuery<PeriodicStatus>('periodicStatus')
/** Runs a pass now instead of at the end of the current sleep. */
export const runPeriodicNowSignal = defineSignal('runPeriodicNow')
