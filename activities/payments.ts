import { WorkflowNotFoundError } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { approveCharge, expireCharge, getWallet, LedgerError, rejectCharge, submitPendingCharge, type LedgerResult, type LedgerResultJson } from '#db/ledger.ts'
import { InvalidAmountError } from '#domain/money.ts'
import { storableText } from '#domain/text.ts'
import { getPayment, recordPaymentDecision } from '#db/payments.ts'
import type { PaymentStatus as PaymentRowStatus, Role } from '#db/models.ts'
import { paymentOutcomeSignal, type PaymentStatus } from '#temporal/messages.ts'
import { orderWorkflowId } from '#temporal/workflow-ids.ts'
import { paymentFlow } from '#workflows/payment/rules.ts'
import type { ResolvedDeps } from './deps.ts'
import { moveMoney, tellCreditWatch } from './ledger.ts'
import { publish } from './notifications.ts'

export interface PaymentContext {
  payment: { id: number; userId: number; amount: string; orderId: number | null; method: string; status: PaymentRowStatus; decidedBy: number | null; note: string | null }
  payer: { username: string; role: Role }
  config: { remindersMs: number[]; expiryMs: number }
  /**
   * Who confirms the payment: an admin (a receipt) or the gateway (Zarinpal, no pending credit, no admin). Absent in
   * histories recorded before gateway payments had their own flow; those run the receipt flow.
   */
  confirmedBy?: 'admin' | 'gateway'
  /** The payment was decided before this run (a repeated start): nothing moves again. */
  finished: boolean
}

export function createPaymentActivities(deps: ResolvedDeps) {
  const { db } = deps
  return {
    /**
     * Loads the payment and, for a receipt, adds its amount to the payer's pending credit (CHARGE_PENDING), once. A
     * gateway payment credits nothing until the gateway has verified it.
     */
    async beginPayment(input: { paymentId: number; idempotencyKey: string }): Promise<PaymentContext> {
      const payment = await getPayment(db, input.paymentId)
      if (!payment) throw ApplicationFailure.create({ type: 'NotFound', message: `Payment ${input.paymentId} does not exist`, nonRetryable: true })
      const payer = await db('users').where({ id: payment.userId }).first('username', 'role')
      const method = await db('paymentMethods').where({ id: payment.methodId }).first('titleEn', 'kind')
      const flow = paymentFlow(method?.kind ?? '', { receiptExpiryMs: deps.env.PAYMENT_EXPIRY, gatewayWindowMs: deps.env.GATEWAY_PAYMENT_WINDOW })
      const finished = payment.status !== 'PENDING'
      if (!finished && flow.pendingCreditAtStart) {
        await moveMoney(deps, () =>
          submitPendingCharge(db, { userId: payment.userId, amount: String(payment.amount), paymentId: payment.id, idempotencyKey: input.idempotencyKey }),
        )
      }
      return {
        payment: {
          id: payment.id,
          userId: payment.userId,
          amount: String(payment.amount),
          orderId: payment.orderId,
          method: method?.titleEn ?? `method ${payment.methodId}`,
          status: payment.status,
          decidedBy: payment.decidedBy,
          note: payment.note,
        },
        payer: { username: payer?.username ?? `user ${payment.userId}`, role: payer?.role ?? 'customer' },
        config: { remindersMs: deps.env.PAYMENT_REMINDERS, expiryMs: flow.expiryMs },
        confirmedBy: flow.confirmedBy,
        finished,
      }
    },

    /**
     * Applies the outcome to the ledger (approve: pending → confirmed; reject/expire: pending removed, which may
     * push an agent below zero and start the 24-hour rule), records it on the payment, publishes the status.
     */
    async settlePayment(input: {
      workflowId: string
      paymentId: number
      outcome: Exclude<PaymentRowStatus, 'PENDING'>
      adminId: number | null
      note: string | null
      idempotencyKey: string
      status: PaymentStatus
    }): Promise<LedgerResultJson> {
      const payment = await getPayment(db, input.paymentId)
      if (!payment) throw ApplicationFailure.create({ type: 'NotFound', message: `Payment ${input.paymentId} does not exist`, nonRetryable: true })
      const base = { userId: payment.userId, amount: String(payment.amount), paymentId: payment.id, idempotencyKey: input.idempotencyKey }
      // The decision is taken already: its note is stored as storable text rather than refused and retried forever.
      const note = input.note === null ? null : storableText(input.note)
      const result = await moveMoney(deps, () => {
        if (input.outcome === 'APPROVED') return approveCharge(db, { ...base, actorUserId: input.adminId, note })
        if (input.outcome === 'REJECTED') return rejectCharge(db, { ...base, actorUserId: input.adminId, note })
        return expireCharge(db, base)
      })
      await recordPaymentDecision(db, payment.id, { status: input.outcome, decidedBy: input.adminId, note })
      await publish(deps, input.workflowId, { ...input.status, balanceAfter: result.usable })
      return result
    },

    /**
     * Settles a gateway payment under a lock on its row. Verified (by the signal, or by the verification the web
     * callback stored on the row before signalling, which may land while the window closes): the payer is credited
     * once, pending then approved (CHARGE_PENDING + CHARGE_APPROVED), and the payment APPROVED. Not verified: it
     * EXPIRES and nothing moves. The callback takes the same lock, so a verification either reaches this step or
     * finds the payment closed and is recorded for support; it is never dropped.
     */
    async settleGatewayPayment(input: {
      workflowId: string
      paymentId: number
      refId: string | null
      pendingKey: string
      approveKey: string
      status: PaymentStatus
    }): Promise<{ outcome: Exclude<PaymentRowStatus, 'PENDING'>; note: string | null; usable: string }> {
      const ledgerSteps: LedgerResult[] = []
      let settled: { outcome: Exclude<PaymentRowStatus, 'PENDING'>; note: string | null; userId: number }
      try {
        settled = await db.transaction(async (trx) => {
          const payment = await trx('payments').where({ id: input.paymentId }).forUpdate().first()
          if (!payment) throw ApplicationFailure.create({ type: 'NotFound', message: `Payment ${input.paymentId} does not exist`, nonRetryable: true })
          // A retry after the commit: the payment is settled already.
          if (payment.status !== 'PENDING') return { outcome: payment.status, note: payment.note, userId: payment.userId }
          const refId = input.refId ?? payment.gatewayRefId
          if (!refId) {
            await recordPaymentDecision(trx, payment.id, { status: 'EXPIRED', decidedBy: null, note: null })
            return { outcome: 'EXPIRED' as const, note: payment.note, userId: payment.userId }
          }
          const note = `gateway ref ${refId}`
          const base = { userId: payment.userId, amount: String(payment.amount), paymentId: payment.id }
          ledgerSteps.push(await submitPendingCharge(trx, { ...base, idempotencyKey: input.pendingKey }))
          ledgerSteps.push(await approveCharge(trx, { ...base, idempotencyKey: input.approveKey, actorUserId: null, note }))
          await recordPaymentDecision(trx, payment.id, { status: 'APPROVED', decidedBy: null, note })
          return { outcome: 'APPROVED' as const, note, userId: payment.userId }
        })
      } catch (error) {
        if (error instanceof LedgerError || error instanceof InvalidAmountError) {
          throw ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: true })
        }
        throw error
      }
      for (const step of ledgerSteps) await tellCreditWatch(deps, step)
      const usable = (await getWallet(db, settled.userId)).usable.toString()
      await publish(deps, input.workflowId, { ...input.status, status: settled.outcome, decidedBy: null, note: settled.note, balanceAfter: usable })
      return { outcome: settled.outcome, note: settled.note, usable }
    },

    /** Resumes the order that waits on this payment. An order that has already finished is left alone. */
    async signalOrderPaymentOutcome(input: { orderId: number; paymentId: number; outcome: 'APPROVED' | 'REJECTED' | 'EXPIRED'; note: string | null }): Promise<boolean> {
      try {
        await deps.temporal.workflow.getHandle(orderWorkflowId(input.orderId)).signal(paymentOutcomeSignal, { paymentId: input.paymentId, outcome: input.outcome, note: input.note })
        return true
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false
        throw error
      }
    },
  }
}
