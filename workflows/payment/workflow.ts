import { ApplicationFailure, condition, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow'
import type { Activities } from '#activities/index.ts'
import {
  decidePaymentSignal,
  decidePaymentUpdate,
  gatewayVerifiedSignal,
  PAYMENT_DECISION_REFUSED,
  paymentStatusQuery,
  type DecidePaymentSignal,
  type PaymentDecided,
  type PaymentDecisionRefusal,
  type GatewayVerifiedSignal,
  type PaymentApprovalInput,
  type PaymentResult,
  type PaymentStatus,
} from '#temporal/messages.ts'
import { bestEffort } from '../shared/best-effort.ts'
import { acceptDecision, hoursWaiting, outcomeOf, refuseDecision, reminderTimes, type PaymentOutcome } from './rules.ts'

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
})

const notify = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 8 },
})

/**
 * payment approval: the receipt's amount becomes pending credit at once; admins are asked (Telegram buttons and
 * the web queue) and reminded; the first decision wins; without one the payment expires. The outcome moves the
 * ledger, reaches the payer and resumes the order that waits on it. An admin decides with `decidePaymentUpdate`,
 * whose validator refuses every decision but the first, and which answers once the ledger has moved.
 *
 * A gateway (Zarinpal) payment is confirmed by the gateway alone: nothing is credited and no admin is asked until
 * `gatewayVerified` arrives, which credits the payer once; an admin's decision is ignored. Without a verification
 * it expires after the gateway window, with nothing credited.
 */
export async function paymentApproval(input: PaymentApprovalInput): Promise<PaymentResult> {
  const { workflowId } = workflowInfo()
  const paymentId = input.paymentId
  const startedAt = Date.now()
  const status: PaymentStatus = {
    paymentId,
    status: 'PENDING',
    decidedBy: null,
    decidedAt: null,
    note: null,
    remindersSent: 0,
    expiresAt: new Date(startedAt).toISOString(),
    balanceAfter: null,
  }
  let decision: DecidePaymentSignal | null = null
  let decidedAt: string | null = null
  let gatewayNote: string | null = null
  let verified: GatewayVerifiedSignal | null = null
  let loaded = false
  let closed = false
  /** Set once the decision's ledger move is done: what `decidePaymentUpdate` answers. */
  let settledDecision: PaymentDecided | null = null

  const take = (next: DecidePaymentSignal) => {
    decision = next
    decidedAt = new Date(Date.now()).toISOString()
  }
  const refusal = (): PaymentDecisionRefusal | null => refuseDecision({ paymentId, confirmedBy: status.confirmedBy, decision, decidedAt, closed, status })
  const refuse = (why: PaymentDecisionRefusal) =>
    ApplicationFailure.create({ type: PAYMENT_DECISION_REFUSED, message: `Payment #${paymentId}: ${why.reason}`, details: [why], nonRetryable: true })

  setHandler(paymentStatusQuery, () => status)
  setHandler(decidePaymentSignal, (incoming) => {
    if (status.confirmedBy === 'gateway') {
      log.warn('Ignored an admin decision on a gateway payment: the gateway confirms it', { paymentId, adminId: incoming.adminId, decision: incoming.decision })
      return
    }
    const next = acceptDecision(decision, incoming, closed)
    if (next && next !== decision) take(next)
  })
  setHandler(
    decidePaymentUpdate,
    async (incoming): Promise<PaymentDecided> => {
      // A decision that comes before the payment is loaded waits for it: only then is it known who confirms the payment.
      if (!loaded) await condition(() => loaded)
      const refused = refusal()
      if (refused) throw refuse(refused)
      take({ decision: incoming.decision, adminId: incoming.adminId, note: incoming.note })
      await condition(() => settledDecision !== null)
      return settledDecision!
    },
    {
      validator: (incoming) => {
        if (incoming.decision !== 'approve' && incoming.decision !== 'reject') throw new Error(`Unknown decision ${String(incoming.decision)}`)
        const refused = refusal()
        if (refused) throw refuse(refused)
      },
    },
  )
  setHandler(gatewayVerifiedSignal, (incoming) => {
    if (closed) return
    verified ??= incoming
    if (status.confirmedBy === 'gateway' || decision) return
    // A payment that runs the receipt flow (started before gateway payments had their own): a verification approves it.
    gatewayNote = `gateway ref ${incoming.refId}`
    take({ decision: 'approve', adminId: 0, note: gatewayNote })
  })

  const ctx = await steps.beginPayment({ paymentId, idempotencyKey: `${workflowId}:pending` })
  if (ctx.confirmedBy) status.confirmedBy = ctx.confirmedBy
  loaded = true
  const expiresAt = startedAt + ctx.config.expiryMs
  status.expiresAt = new Date(expiresAt).toISOString()
  if (ctx.finished) {
    closed = true
    status.status = ctx.payment.status
    status.decidedBy = ctx.payment.decidedBy
    status.note = ctx.payment.note
    return status
  }
  const { payment, payer } = ctx
  await steps.publishStatus({ workflowId, status: { ...status } })

  /** The outcome reaches the order waiting on the payment and the payer. */
  const finish = async (outcome: PaymentOutcome, note: string | null, usable: string): Promise<PaymentResult> => {
    if (payment.orderId !== null) {
      await steps.signalOrderPaymentOutcome({ orderId: payment.orderId, paymentId, outcome, note })
    }
    await bestEffort('notification', () =>
      notify.notifyUser({
        key: `${workflowId}:decided`,
        userId: payment.userId,
        message: { kind: 'payment_decided', paymentId, outcome, amount: payment.amount, note, usable },
      }),
    )
    return status
  }

  if (ctx.confirmedBy === 'gateway') {
    if (decision) log.warn('Ignored an admin decision on a gateway payment: the gateway confirms it', { paymentId })
    await condition(() => verified !== null, Math.max(0, expiresAt - Date.now()))
    closed = true
    const decided: PaymentStatus = { ...status, decidedAt: new Date(Date.now()).toISOString() }
    const settled = await steps.settleGatewayPayment({
      workflowId,
      paymentId,
      refId: (verified as GatewayVerifiedSignal | null)?.refId ?? null,
      pendingKey: `${workflowId}:pending`,
      approveKey: `${workflowId}:settle`,
      status: decided,
    })
    Object.assign(status, decided, { status: settled.outcome, decidedBy: null, note: settled.note, balanceAfter: settled.usable })
    return finish(settled.outcome, settled.note, settled.usable)
  }

  await bestEffort('notification', () =>
    notify.notifyAdmins({
      key: `${workflowId}:submitted`,
      message: { kind: 'payment_submitted', paymentId, amount: payment.amount, payer: payer.username, method: payment.method, orderId: payment.orderId },
    }),
  )

  for (const at of reminderTimes(startedAt, ctx.config.remindersMs, expiresAt)) {
    if (await condition(() => decision !== null, at - Date.now())) break
    status.remindersSent++
    await bestEffort('notification', () =>
      notify.notifyAdmins({
        key: `${workflowId}:reminder:${status.remindersSent}`,
        message: { kind: 'payment_reminder', paymentId, amount: payment.amount, payer: payer.username, waitingHours: hoursWaiting(startedAt, Date.now()) },
      }),
    )
  }
  if (!decision) await condition(() => decision !== null, Math.max(0, expiresAt - Date.now()))
  closed = true

  const final = decision as DecidePaymentSignal | null
  const outcome = outcomeOf(final)
  const adminId = final && !gatewayNote ? final.adminId : null
  const note = final?.note ?? null
  const decided: PaymentStatus = { ...status, status: outcome, decidedBy: adminId, decidedAt: decidedAt ?? new Date(Date.now()).toISOString(), note }
  const settled = await steps.settlePayment({ workflowId, paymentId, outcome, adminId, note, idempotencyKey: `${workflowId}:settle`, status: decided })
  // The status shows the decision only once the ledger has moved, so whoever reads it sees the new balance.
  Object.assign(status, decided, { balanceAfter: settled.usable })
  if (final && adminId !== null) {
    settledDecision = { paymentId, outcome: outcome === 'APPROVED' ? 'approved' : 'rejected', decidedBy: adminId, decidedAt: decided.decidedAt!, note, balanceAfter: settled.usable }
  }
  return finish(outcome, note, settled.usable)
}
