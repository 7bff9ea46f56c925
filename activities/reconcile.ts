import { WorkflowNotFoundError } from '@temporalio/client'
import { markAccountRemoved, markOrdersRefunded } from '#db/accounts.ts'
import { approveCharge, expireCharge, refundOrder, rejectCharge } from '#db/ledger.ts'
import { setOrderStatus } from '#db/orders.ts'
import { recordPaymentDecision } from '#db/payments.ts'
import { findLostWork, hasPendingCharge, ledgerDecision, outstandingDebit, recordReconciliation, refundedSince, type LostWorkItem, type UnsettledRow } from '#db/reconcile.ts'
import { failRefund, finishRefund } from '#db/refunds.ts'
import { finishBroadcast } from '#db/telegram.ts'
import { storableText } from '#domain/text.ts'
import { paymentOutcomeSignal, type ReconciledItem } from '#temporal/messages.ts'
import { startWorkflowAgain, type RestartTarget } from '#temporal/start.ts'
import { orderWorkflowId } from '#temporal/workflow-ids.ts'
import type { LostWork, ReconcileDecision } from '#workflows/reconcile/rules.ts'
import type { ResolvedDeps } from './deps.ts'
import { moveMoney } from './ledger.ts'
import { createNotificationActivities } from './notifications.ts'

function restartTarget(row: UnsettledRow): RestartTarget {
  switch (row.kind) {
    case 'order':
      return { kind: 'order', orderId: row.id }
    case 'payment':
      return { kind: 'payment', paymentId: row.id }
    case 'refund':
      return { kind: 'refund', input: { accountId: row.accountId, requestedBy: row.requestedBy, reason: row.reason } }
    case 'broadcast':
      return { kind: 'broadcast', broadcastId: row.id }
  }
}

export function createReconcileActivities(deps: ResolvedDeps) {
  const { db } = deps
  const notifications = createNotificationActivities(deps)

  async function settleOrder(row: Extract<UnsettledRow, { kind: 'order' }>, facts: LostWork, outcome: string, why: string): Promise<string> {
    // Whatever the order ends as short of delivered, nothing it was debited for may stay taken.
    let refunded = 0n
    if (outcome !== 'delivered') {
      const owed = await outstandingDebit(db, row.userId, row.id)
      if (owed > 0n) {
        await moveMoney(deps, () =>
          refundOrder(db, { userId: row.userId, amount: owed, orderId: row.id, idempotencyKey: `${row.workflowId}:reconcile-refund`, note: storableText(`order #${row.id}: ${why}`).slice(0, 300) }),
        )
        refunded = owed
      }
    }
    const result = facts.result?.kind === 'order' ? facts.result : null
    if (outcome === 'delivered') await setOrderStatus(db, row.id, 'delivered', { accountId: result?.accountId ?? undefined, failureReason: null })
    else if (outcome === 'cancelled') await setOrderStatus(db, row.id, 'cancelled', { failureReason: storableText(result?.reason ?? why) })
    else {
      await setOrderStatus(db, row.id, 'failed', { failureReason: storableText(why) })
      // The key the workflow itself uses: a buyer it told already is not told twice.
      await notifications
        .notifyUser({ key: `${row.workflowId}:failed`, userId: row.userId, message: { kind: 'order_failed', orderId: row.id, reason: why, refunded: refunded.toString() } })
        .catch(() => undefined)
    }
    return refunded.toString()
  }

  async function settlePayment(row: Extract<UnsettledRow, { kind: 'payment' }>, outcome: 'APPROVED' | 'REJECTED' | 'EXPIRED'): Promise<void> {
    const decided = await ledgerDecision(db, row.id)
    if (!decided && (await hasPendingCharge(db, row.id))) {
      const payment = await db('payments').where({ id: row.id }).first('amount')
      const base = { userId: row.userId, amount: String(payment.amount), paymentId: row.id, idempotencyKey: `${row.workflowId}:settle` }
      await moveMoney(deps, () =>
        outcome === 'APPROVED' ? approveCharge(db, { ...base, actorUserId: null }) : outcome === 'REJECTED' ? rejectCharge(db, { ...base, actorUserId: null }) : expireCharge(db, base),
      )
    }
    await recordPaymentDecision(db, row.id, { status: outcome, decidedBy: decided?.actorUserId ?? null, note: decided?.note ?? null })
    if (row.orderId !== null) {
      try {
        await deps.temporal.workflow.getHandle(orderWorkflowId(row.orderId)).signal(paymentOutcomeSignal, { paymentId: row.id, outcome, note: decided?.note ?? null })
      } catch (error) {
        // An order without a running workflow is the reconciler's too: its own turn comes.
        if (!(error instanceof WorkflowNotFoundError)) throw error
      }
    }
  }

  async function settleRefund(row: Extract<UnsettledRow, { kind: 'refund' }>, facts: LostWork, outcome: string, why: string): Promise<string> {
    if (outcome === 'failed') {
      await failRefund(db, row.id, storableText(why))
      return '0'
    }
    const given = await refundedSince(db, row.accountId, new Date(row.createdAt))
    const amount = facts.result?.kind === 'refund' ? facts.result.amount : given.total.toString()
    await db.transaction(async (trx) => {
      if (given.total > 0n) {
        await markAccountRemoved(trx, row.accountId, deps.settings.refundPolicy.panelAction)
        await markOrdersRefunded(trx, given.orderIds)
      }
      await finishRefund(trx, row.accountId, amount)
    })
    return '0'
  }

  /**
   * A payment decided while its order had no workflow told nobody (its signal found no run): the new run hears it
   * now instead of waiting out the payment window. Signals wait for the run to read them.
   */
  async function passOnDecidedPayment(orderId: number): Promise<void> {
    const decided = await db('payments')
      .where({ orderId })
      .whereNot({ status: 'PENDING' })
      .orderByRaw(`(status = 'APPROVED') desc, id desc`)
      .first('id', 'status', 'note')
    if (!decided) return
    await deps.temporal.workflow.getHandle(orderWorkflowId(orderId)).signal(paymentOutcomeSignal, { paymentId: decided.id, outcome: decided.status, note: decided.note ?? null })
  }

  return {
    /** The rows older than `minAgeMs` whose workflow is missing or closed (`findLostWork`). */
    async findLostWork(input: { minAgeMs: number; limit?: number }): Promise<{ checked: number; lost: LostWorkItem[] }> {
      return findLostWork(db, deps.temporal, { olderThan: new Date(deps.clock().getTime() - input.minAgeMs), limit: input.limit })
    },

    /**
     * Does what `decideReconcile` said: starts the workflow again, or settles the row (an order refunded of whatever
     * it was debited and not given back, exactly once, under the key `<workflowId>:reconcile-refund`). Writes one
     * audit row per `key`, so a retried attempt neither repeats the work nor the row.
     */
    async reconcileWork(input: { key: string; item: LostWorkItem; decision: ReconcileDecision }): Promise<ReconciledItem> {
      const { row, facts } = input.item
      const { decision } = input
      let refunded = '0'
      if (decision.action === 'restart') {
        await startWorkflowAgain(deps.temporal, restartTarget(row))
        if (row.kind === 'order' && row.rowStatus === 'awaiting_payment') await passOnDecidedPayment(row.id)
      } else if (row.kind === 'order') {
        refunded = await settleOrder(row, facts, decision.outcome, decision.why)
      } else if (row.kind === 'payment') {
        await settlePayment(row, decision.outcome as 'APPROVED' | 'REJECTED' | 'EXPIRED')
      } else if (row.kind === 'refund') {
        refunded = await settleRefund(row, facts, decision.outcome, decision.why)
      } else if (decision.outcome === 'done') {
        await finishBroadcast(db, row.id)
      } else {
        await db('broadcasts').where({ id: row.id }).whereIn('status', ['queued', 'sending']).update({ status: 'cancelled', finishedAt: db.fn.now() })
      }
      const item: ReconciledItem = {
        kind: row.kind,
        id: row.id,
        workflowId: row.workflowId,
        found: facts.workflow.state,
        action: decision.action === 'restart' ? 'restarted' : 'settled',
        outcome: decision.action === 'settle' ? decision.outcome : null,
        refunded,
        why: storableText(decision.why).slice(0, 500),
      }
      await recordReconciliation(db, input.key, item)
      return item
    },
  }
}
