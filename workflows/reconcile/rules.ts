import { ORDER_FAILED, type ReconciledItem } from '#temporal/messages.ts'

/**
 * What the reconciler does with work whose row is not final while its workflow is not running: start the workflow
 * again, or settle the row. Pure: the activity gathers the facts, this decides.
 */
export type ReconcileKind = ReconciledItem['kind']

/** How the row's workflow was found. `running` work is never handed to the rules. */
export type FoundState = 'missing' | 'completed' | 'failed' | 'terminated' | 'cancelled' | 'timed_out'

/** After this many restarts by the reconciler, work whose workflow still ends without finishing is settled instead. */
export const MAX_RESTARTS = 3

/** Rows younger than this are left to the request that wrote them (it starts their workflow right after the commit). */
export const DEFAULT_MIN_AGE_MS = 2 * 60_000

/** What a workflow that completed returned, as far as settling its row needs it. */
export type CompletedResult =
  | { kind: 'order'; outcome: 'delivered' | 'cancelled'; accountId: number | null; reason: string | null }
  | { kind: 'payment'; status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' }
  | { kind: 'refund'; amount: string }
  | { kind: 'broadcast' }

export interface LostWork {
  kind: ReconcileKind
  id: number
  workflowId: string
  /** The row's state, one that is not final. */
  rowStatus: string
  workflow: { state: FoundState; failureType: string | null; failure: string | null }
  result: CompletedResult | null
  /** How often the reconciler started this workflow again before (its audit rows). */
  restarts: number
  ledger: {
    /** order: debited and not refunded yet, decimal string. */
    outstandingDebit?: string
    /** payment: the decision already in the ledger under the workflow's settle key. */
    paymentSettledAs?: 'APPROVED' | 'REJECTED' | 'EXPIRED' | null
    /** refund: what this refund's workflow has given back already, decimal string. */
    refunded?: string
  }
}

export type SettleOutcome =
  | 'delivered'
  | 'cancelled'
  | 'failed'
  | 'APPROVED'
  | 'REJECTED'
  | 'EXPIRED'
  | 'done'

export type ReconcileDecision = { action: 'restart'; why: string } | { action: 'settle'; outcome: SettleOutcome; why: string }

/** Refund failures that a new run would meet again: the row is closed as failed instead. */
const REFUND_BUSINESS_FAILURES = ['InvalidRefundInput', 'NotFound']

/** A short English account of how the workflow was found, for the audit row and the CLI. */
export function describeFound(w: LostWork['workflow']): string {
  if (w.state === 'missing') return 'no workflow'
  if (w.state === 'completed') return 'workflow completed'
  return `workflow ${w.state.replace('_', ' ')}${w.failure ? `: ${w.failure}` : ''}`
}

export function decideReconcile(w: LostWork): ReconcileDecision {
  const found = describeFound(w.workflow)
  const exhausted = w.restarts >= MAX_RESTARTS
  const giveUp = `${found}, after ${w.restarts} restarts`
  const restart: ReconcileDecision = { action: 'restart', why: found }
  switch (w.kind) {
    case 'order': {
      if (w.result?.kind === 'order') return { action: 'settle', outcome: w.result.outcome, why: `${found} (${w.result.outcome}) but the order row was not updated` }
      // An order the workflow failed has had its compensation run; only the row is missing its end.
      if (w.workflow.state === 'failed' && w.workflow.failureType === ORDER_FAILED) return { action: 'settle', outcome: 'failed', why: w.workflow.failure ?? found }
      if (exhausted) return { action: 'settle', outcome: 'failed', why: giveUp }
      return restart
    }
    case 'payment': {
      // The decision is in the ledger: the row write after it is what was lost.
      if (w.ledger.paymentSettledAs) return { action: 'settle', outcome: w.ledger.paymentSettledAs, why: `${found}; the ledger holds the decision` }
      if (w.result?.kind === 'payment' && w.result.status !== 'PENDING') return { action: 'settle', outcome: w.result.status, why: `${found} (${w.result.status}) but the payment row was not updated` }
      if (exhausted) return { action: 'settle', outcome: 'EXPIRED', why: giveUp }
      return restart
    }
    case 'refund': {
      if (w.result?.kind === 'refund') return { action: 'settle', outcome: 'done', why: `${found} but the refund row was not updated` }
      // The money goes back only after the panel confirmed the removal, so both happened; a new run would quote again.
      if (w.ledger.refunded && w.ledger.refunded !== '0') return { action: 'settle', outcome: 'done', why: `${found}; the ledger holds the refund` }
      if (w.workflow.state === 'failed' && w.workflow.failureType && REFUND_BUSINESS_FAILURES.includes(w.workflow.failureType)) {
        return { action: 'settle', outcome: 'failed', why: w.workflow.failure ?? found }
      }
      if (exhausted) return { action: 'settle', outcome: 'failed', why: giveUp }
      return restart
    }
    case 'broadcast': {
      if (w.workflow.state === 'completed') return { action: 'settle', outcome: 'done', why: `${found} but the broadcast row was not updated` }
      if (exhausted) return { action: 'settle', outcome: 'cancelled', why: giveUp }
      return restart
    }
  }
}
