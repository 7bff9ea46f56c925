import { ApplicationFailure } from '@temporalio/common'
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client'
import type { OrderResult, PaymentResult, ReconciledItem, RefundResult } from '#temporal/messages.ts'
import { broadcastWorkflowId, orderWorkflowId, paymentWorkflowId, refundWorkflowId } from '#temporal/workflow-ids.ts'
import { writeAudit } from './audit.ts'
import type { CompletedResult, FoundState, LostWork } from '#workflows/reconcile/rules.ts'
import type { Db } from './knex.ts'

/**
 * What the reconciler reads and writes: the rows in a non-final state (orders, payments, refunds, broadcasts), the
 * ledger facts that tell what their workflow had done, and its audit rows (`reconcile.restarted`,
 * `reconcile.settled`), which the ops page and `workflows reconciled` show.
 */
export type UnsettledRow =
  | { kind: 'order'; id: number; workflowId: string; rowStatus: string; userId: number }
  | { kind: 'payment'; id: number; workflowId: string; rowStatus: string; userId: number; orderId: number | null }
  /** `createdAt` as an ISO string: rows travel as activity results. */
  | { kind: 'refund'; id: number; workflowId: string; rowStatus: string; accountId: number; requestedBy: number; reason: string; createdAt: string }
  | { kind: 'broadcast'; id: number; workflowId: string; rowStatus: string }

export const OPEN_ORDER_STATES = ['pending', 'awaiting_payment', 'provisioning'] as const

/** Rows not final and older than `olderThan`, oldest first, at most `limit` of each kind. */
export async function findUnsettledWork(db: Db, options: { olderThan: Date; limit: number }): Promise<UnsettledRow[]> {
  const { olderThan, limit } = options
  const [orders, payments, refunds, broadcasts] = await Promise.all([
    db('orders').whereIn('status', OPEN_ORDER_STATES).where('createdAt', '<', olderThan).orderBy('id').limit(limit).select('id', 'status', 'userId'),
    db('payments').where({ status: 'PENDING' }).where('createdAt', '<', olderThan).orderBy('id').limit(limit).select('id', 'status', 'userId', 'orderId'),
    db('refunds').where({ status: 'running' }).where('createdAt', '<', olderThan).orderBy('id').limit(limit).select('id', 'status', 'accountId', 'requestedBy', 'reason', 'createdAt'),
    db('broadcasts').whereIn('status', ['queued', 'sending']).where('createdAt', '<', olderThan).orderBy('id').limit(limit).select('id', 'status'),
  ])
  return [
    ...orders.map((r): UnsettledRow => ({ kind: 'order', id: r.id, workflowId: orderWorkflowId(r.id), rowStatus: r.status, userId: r.userId })),
    ...payments.map((r): UnsettledRow => ({ kind: 'payment', id: r.id, workflowId: paymentWorkflowId(r.id), rowStatus: r.status, userId: r.userId, orderId: r.orderId })),
    ...refunds.map(
      (r): UnsettledRow => ({
        kind: 'refund',
        id: r.id,
        workflowId: refundWorkflowId(r.accountId),
        rowStatus: r.status,
        accountId: r.accountId,
        requestedBy: r.requestedBy,
        reason: r.reason,
        createdAt: new Date(r.createdAt).toISOString(),
      }),
    ),
    ...broadcasts.map((r): UnsettledRow => ({ kind: 'broadcast', id: r.id, workflowId: broadcastWorkflowId(r.id), rowStatus: r.status })),
  ]
}

/** How often the reconciler has started this work's workflow again. */
export async function countRestarts(db: Db, kind: string, id: number): Promise<number> {
  const row = await db('auditLog').where({ action: 'reconcile.restarted', targetType: kind, targetId: String(id) }).first(db.raw('count(*)::int as "n"'))
  return Number(row?.n ?? 0)
}

/** What an order has been debited and not refunded yet (never below zero). */
export async function outstandingDebit(db: Db, userId: number, orderId: number): Promise<bigint> {
  const row = await db('ledgerEntries')
    .where({ walletUserId: userId, referenceType: 'order', referenceId: String(orderId) })
    .whereIn('type', ['ORDER_DEBIT', 'ORDER_REFUND'])
    .first(db.raw('coalesce(-sum(confirmed_delta), 0)::text as "net"'))
  const net = BigInt((row as { net: string } | undefined)?.net ?? '0')
  return net > 0n ? net : 0n
}

const DECISION_OF_ENTRY = { CHARGE_APPROVED: 'APPROVED', CHARGE_REJECTED: 'REJECTED', CHARGE_EXPIRED: 'EXPIRED' } as const

/** The decision the payment workflow put in the ledger (its `<workflowId>:settle` entry), if it got that far. */
export async function ledgerDecision(db: Db, paymentId: number): Promise<{ status: 'APPROVED' | 'REJECTED' | 'EXPIRED'; actorUserId: number | null; note: string | null } | null> {
  const entry = await db('ledgerEntries').where({ idempotencyKey: `${paymentWorkflowId(paymentId)}:settle` }).first('type', 'actorUserId', 'note')
  if (!entry) return null
  const status = DECISION_OF_ENTRY[entry.type as keyof typeof DECISION_OF_ENTRY]
  return status ? { status, actorUserId: entry.actorUserId ?? null, note: entry.note ?? null } : null
}

/** Whether the receipt's amount was added to pending credit (the workflow's `<workflowId>:pending` entry). */
export async function hasPendingCharge(db: Db, paymentId: number): Promise<boolean> {
  return (await db('ledgerEntries').where({ idempotencyKey: `${paymentWorkflowId(paymentId)}:pending` }).first('id')) !== undefined
}

/** What the refund workflow of the account has given back since the refund row was written, per order. */
export async function refundedSince(db: Db, accountId: number, since: Date): Promise<{ total: bigint; orderIds: number[] }> {
  const rows: { referenceId: string; amount: string }[] = await db('ledgerEntries')
    .where({ type: 'ORDER_REFUND', referenceType: 'order' })
    .where('idempotencyKey', 'like', `${refundWorkflowId(accountId)}:refund:%`)
    .where('createdAt', '>=', since)
    .groupBy('referenceId')
    .select('referenceId', db.raw('sum(confirmed_delta)::text as "amount"'))
  return { total: rows.reduce((sum, r) => sum + BigInt(r.amount), 0n), orderIds: rows.map((r) => Number(r.referenceId)) }
}

/** A row whose workflow is not running, with what the rules need to decide about it. */
export interface LostWorkItem {
  row: UnsettledRow
  facts: LostWork
}

type Inspection = { state: FoundState | 'running'; failureType: string | null; failure: string | null; result: unknown }

const CLOSED_STATES: Record<string, FoundState> = { FAILED: 'failed', TERMINATED: 'terminated', CANCELLED: 'cancelled', TIMED_OUT: 'timed_out' }

/** The newest run of the workflow: running, missing, or how it closed (with its result or failure). */
async function inspectWorkflow(client: Client, workflowId: string): Promise<Inspection> {
  const handle = client.workflow.getHandle(workflowId)
  let status: string
  try {
    status = (await handle.describe()).status.name
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { state: 'missing', failureType: null, failure: null, result: null }
    throw error
  }
  const closed = CLOSED_STATES[status]
  if (status !== 'COMPLETED' && !closed) return { state: 'running', failureType: null, failure: null, result: null }
  try {
    return { state: 'completed', failureType: null, failure: null, result: await handle.result() }
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) throw error
    const cause = error.cause
    const failureType = cause instanceof ApplicationFailure ? (cause.type ?? null) : (cause?.name ?? null)
    return { state: closed ?? 'failed', failureType, failure: cause?.message || null, result: null }
  }
}

function completedResult(kind: UnsettledRow['kind'], result: unknown): CompletedResult | null {
  if (!result || typeof result !== 'object') return kind === 'broadcast' ? { kind } : null
  if (kind === 'order') {
    const r = result as OrderResult
    return { kind, outcome: r.outcome, accountId: r.accountId ?? null, reason: r.reason ?? null }
  }
  if (kind === 'payment') return { kind, status: (result as PaymentResult).status }
  if (kind === 'refund') return { kind, amount: String((result as RefundResult).amount) }
  return { kind }
}

async function factsOf(db: Db, row: UnsettledRow, seen: Inspection & { state: FoundState }): Promise<LostWork> {
  const ledger: LostWork['ledger'] = {}
  if (row.kind === 'order') ledger.outstandingDebit = (await outstandingDebit(db, row.userId, row.id)).toString()
  if (row.kind === 'payment') ledger.paymentSettledAs = (await ledgerDecision(db, row.id))?.status ?? null
  if (row.kind === 'refund') ledger.refunded = (await refundedSince(db, row.accountId, new Date(row.createdAt))).total.toString()
  return {
    kind: row.kind,
    id: row.id,
    workflowId: row.workflowId,
    rowStatus: row.rowStatus,
    workflow: { state: seen.state, failureType: seen.failureType, failure: seen.failure },
    result: seen.state === 'completed' ? completedResult(row.kind, seen.result) : null,
    restarts: await countRestarts(db, row.kind, row.id),
    ledger,
  }
}

/**
 * Rows of orders, payments, refunds and broadcasts in a non-final state, older than `olderThan`, whose workflow is
 * missing or closed, with the facts `decideReconcile` needs. Rows whose workflow runs are counted, not returned.
 * Workflows are described a few at a time.
 */
export async function findLostWork(db: Db, client: Client, options: { olderThan: Date; limit?: number }): Promise<{ checked: number; lost: LostWorkItem[] }> {
  const rows = await findUnsettledWork(db, { olderThan: options.olderThan, limit: options.limit ?? 500 })
  const lost: LostWorkItem[] = []
  for (let i = 0; i < rows.length; i += 8) {
    const batch = await Promise.all(
      rows.slice(i, i + 8).map(async (row) => {
        const seen = await inspectWorkflow(client, row.workflowId)
        if (seen.state === 'running') return null
        return { row, facts: await factsOf(db, row, { ...seen, state: seen.state }) }
      }),
    )
    for (const item of batch) if (item) lost.push(item)
  }
  return { checked: rows.length, lost }
}

/**
 * Writes the audit row of one reconciliation, once per `key` (an activity retried after the write finds it). Returns
 * false when it was there already.
 */
export async function recordReconciliation(db: Db, key: string, item: ReconciledItem): Promise<boolean> {
  return db.transaction(async (trx) => {
    // Serialises writers of the same key; the key is in the detail, which has no unique index.
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [key])
    const seen = await trx('auditLog').where('action', 'like', 'reconcile.%').whereRaw(`detail->>'key' = ?`, [key]).first('id')
    if (seen) return false
    await writeAudit(trx, { actorUserId: null, action: `reconcile.${item.action}`, targetType: item.kind, targetId: item.id, detail: { key, ...item } })
    return true
  })
}

export interface ReconciliationRow extends ReconciledItem {
  auditId: string
  at: Date
}

/** The newest reconciliations first. */
export async function listReconciliations(db: Db, options: { limit?: number } = {}): Promise<ReconciliationRow[]> {
  const rows: { id: string; detail: Record<string, unknown>; createdAt: Date }[] = await db('auditLog')
    .whereIn('action', ['reconcile.restarted', 'reconcile.settled'])
    .orderBy('id', 'desc')
    .limit(options.limit ?? 50)
    .select('id', 'detail', 'createdAt')
  return rows.map((r) => {
    const d = r.detail as Partial<ReconciledItem>
    return {
      auditId: String(r.id),
      at: r.createdAt,
      kind: d.kind ?? 'order',
      id: Number(d.id),
      workflowId: String(d.workflowId ?? ''),
      found: String(d.found ?? ''),
      action: d.action === 'settled' ? 'settled' : 'restarted',
      outcome: d.outcome ?? null,
      refunded: String(d.refunded ?? '0'),
      why: String(d.why ?? ''),
    }
  })
}
