import { condition, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow'
import type { Activities } from '#activities/index.ts'
import {
  decidePaymentSignal,
  gatewayVerifiedSignal,
  paymentStatusQuery,
  type DecidePaymentSignal,
  type GatewayVerifiedSignal,
  type PaymentApprovalInput,
  type PaymentResult,
  type PaymentStatus,
} from '#temporal/messages.ts'
import { bestEffort } from '../shared/best-effort.ts'
import { acceptDecision, hoursWaiting, outcomeOf, reminderTimes, type PaymentOutcome } from './rules.ts'

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
 * ledger, reaches the payer and resumes the order that waits on it.
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
  let gatewayNote: string | null = null
  let verified: GatewayVerifiedSignal | null = null
  let closed = false

  setHandler(paymentStatusQuery, () => status)
  setHandler(decidePaymentSignal, (incoming) => {
    if (status.confirmedBy === 'gateway') {
      log.warn('Ignored an admin decision on a gateway payment: the gateway confirms it', { paymentId, adminId: incoming.adminId, decision: incoming.decision })
      return
    }
    decision = acceptDecision(decision, incoming, closed)
  })
  setHandler(gatewayVerifiedSignal, (incoming) => {
    if (closed) return
    verified ??= incoming
    if (status.confirmedBy === 'gateway' || decision) return
    // A payment that runs the receipt flow (started before gateway payments had their own): a verification approves it.
    gatewayNote = `gateway ref ${incoming.refId}`
    decision = { decision: 'approve', adminId: 0, note: gatewayNote }
  })

  const ctx = await steps.beginPayment({ paymentId, idempotencyKey: `${workflowId}:pending` })
  if (ctx.confirmedBy) status.confirmedBy = ctx.confirmedBy
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
  const decided: PaymentStatus = { ...status, status: outcome, decidedBy: adminId, decidedAt: new Date(Date.now()).toISOString(), note }
  const settled = await steps.settlePayment({ workflowId, paymentId, outcome, adminId, note, idempotencyKey: `${workflowId}:settle`, status: decided })
  // The status shows the decision only once the ledger has moved, so whoever reads it sees the new balance.
  Object.assign(status, decided, { balanceAfter: settled.usable })
  return finish(outcome, note, settled.usable)
}
