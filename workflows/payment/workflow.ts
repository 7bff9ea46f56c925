import { condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow'
import type { Activities } from '#activities/index.ts'
import {
  decidePaymentSignal,
  gatewayVerifiedSignal,
  paymentStatusQuery,
  type DecidePaymentSignal,
  type PaymentApprovalInput,
  type PaymentResult,
  type PaymentStatus,
} from '#temporal/messages.ts'
import { bestEffort } from '../shared/best-effort.ts'
import { acceptDecision, hoursWaiting, outcomeOf, reminderTimes } from './rules.ts'

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
  let closed = false

  setHandler(paymentStatusQuery, () => status)
  setHandler(decidePaymentSignal, (incoming) => {
    decision = acceptDecision(decision, incoming, closed)
  })
  setHandler(gatewayVerifiedSignal, (verified) => {
    if (decision || closed) return
    // A verified gateway payment approves itself; nobody decided by hand.
    gatewayNote = `gateway ref ${verified.refId}`
    decision = { decision: 'approve', adminId: 0, note: gatewayNote }
  })

  const ctx = await steps.beginPayment({ paymentId, idempotencyKey: `${workflowId}:pending` })
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

  if (payment.orderId !== null) {
    await steps.signalOrderPaymentOutcome({ orderId: payment.orderId, paymentId, outcome, note })
  }
  await bestEffort('notification', () =>
    notify.notifyUser({
      key: `${workflowId}:decided`,
      userId: payment.userId,
      message: { kind: 'payment_decided', paymentId, outcome, amount: payment.amount, note, usable: settled.usable },
    }),
  )
  return status
}
