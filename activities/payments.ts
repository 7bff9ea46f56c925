import { WorkflowNotFoundError } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { approveCharge, expireCharge, rejectCharge, submitPendingCharge, type LedgerResultJson } from '#db/ledger.ts'
import { getPayment, recordPaymentDecision } from '#db/payments.ts'
import type { PaymentStatus as PaymentRowStatus, Role } from '#db/models.ts'
import { paymentOutcomeSignal, type PaymentStatus } from '#temporal/messages.ts'
import { orderWorkflowId } from '#temporal/workflow-ids.ts'
import type { ResolvedDeps } from './deps.ts'
import { moveMoney } from './ledger.ts'
import { publish } from './notifications.ts'

export interface PaymentContext {
  payment: { id: number; userId: number; amount: string; orderId: number | null; method: string; status: PaymentRowStatus; decidedBy: number | null; note: string | null }
  payer: { username: string; role: Role }
  config: { remindersMs: number[]; expiryMs: number }
  /** The payment was decided before this run (a repeated start): nothing moves again. */
  finished: boolean
}

export function createPaymentActivities(deps: ResolvedDeps) {
  const { db } = deps
  return {
    /** Loads the payment and adds its amount to the payer's pending credit (CHARGE_PENDING), once. */
    async beginPayment(input: { paymentId: number; idempotencyKey: string }): Promise<PaymentContext> {
      const payment = await getPayment(db, input.paymentId)
      if (!payment) throw ApplicationFailure.create({ type: 'NotFound', message: `Payment ${input.paymentId} does not exist`, nonRetryable: true })
      const payer = await db('users').where({ id: payment.userId }).first('username', 'role')
      const method = await db('paymentMethods').where({ id: payment.methodId }).first('titleEn')
      const finished = payment.status !== 'PENDING'
      if (!finished) {
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
        config: { remindersMs: deps.env.PAYMENT_REMINDERS, expiryMs: deps.env.PAYMENT_EXPIRY },
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
      const result = await moveMoney(deps, () => {
        if (input.outcome === 'APPROVED') return approveCharge(db, { ...base, actorUserId: input.adminId, note: input.note })
        if (input.outcome === 'REJECTED') return rejectCharge(db, { ...base, actorUserId: input.adminId, note: input.note })
        return expireCharge(db, base)
      })
      await recordPaymentDecision(db, payment.id, { status: input.outcome, decidedBy: input.adminId, note: input.note })
      await publish(deps, input.workflowId, { ...input.status, balanceAfter: result.usable })
      return result
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
