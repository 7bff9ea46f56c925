import { ApplicationFailure, condition, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow'
import type { Activities } from '#activities/index.ts'
import type { CreatedPanelAccount, AccountTermsSnapshot } from '#activities/orders.ts'
import { newAccountTerms, renewalTerms } from '#domain/pricing.ts'
import {
  cancelOrderSignal,
  cancelOrderUpdate,
  ORDER_CANCEL_REFUSED,
  ORDER_FAILED,
  orderStatusQuery,
  paymentOutcomeSignal,
  retryNowSignal,
  type CancelOrderSignal,
  type OrderCancelled,
  type OrderCancelRefusal,
  type OrderResult,
  type OrderStatus,
  type OrderStep,
  type OrderToProvisionInput,
  type PaymentOutcomeSignal,
} from '#temporal/messages.ts'
import { bestEffort } from '../shared/best-effort.ts'
import { describeFailure } from '../shared/failure.ts'
import { afterPaymentOutcome, afterProvisionFailure, compensationPlan, orderRowStatus, refuseCancel, strayPanels } from './rules.ts'

/** Database and ledger steps: transient failures (a restarting Postgres) retry; business refusals are non-retryable. */
const steps = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
})

/** One panel call per attempt: the workflow retries it itself, so it can keep a deadline, count attempts and obey retry-now. */
const panelAttempt = proxyActivities<Activities>({
  startToCloseTimeout: '45 seconds',
  heartbeatTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
})

/** Undoing a half-made panel user must happen eventually, however long the panel stays away. */
const cleanup = proxyActivities<Activities>({
  startToCloseTimeout: '45 seconds',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
})

/** Notifications are best effort: a Telegram outage must not fail an order. */
const notify = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 8 },
})

/**
 * order-to-provision: pay (wallet debit, or wait for the linked receipt's approval) → create the panel user (or
 * extend the account for a renewal) retrying until a deadline → store the account → tell the buyer. A failure after
 * the debit, or a cancel before delivery, refunds exactly the debit and removes any half-made panel user. A cancel
 * comes as `cancelOrderUpdate`, whose validator refuses it from delivery on, and which answers once the refund is done.
 */
export async function orderToProvision(input: OrderToProvisionInput): Promise<OrderResult> {
  const { workflowId } = workflowInfo()
  const orderId = input.orderId
  const status: OrderStatus = { orderId, step: 'queued', attempt: 0, lastError: null, accountId: null, subscriptionUrl: null, paymentId: null }
  let cancel: CancelOrderSignal | null = null
  let cancelledAt: string | null = null
  let payment: PaymentOutcomeSignal | null = null
  let retryNow = false
  let delivered = false
  let loaded = false
  /** How the order ended for its buyer (money back, or the account stored): what an accepted cancel waits for. */
  let ended: { outcome: 'delivered' | 'cancelled' | 'failed'; refunded: string } | null = null

  const takeCancel = (next: CancelOrderSignal) => {
    cancel = next
    cancelledAt = new Date(Date.now()).toISOString()
  }
  const cancelRefusal = (): OrderCancelRefusal | null => refuseCancel({ orderId, step: status.step, delivered, cancel, cancelledAt })
  const refuseCancelWith = (why: OrderCancelRefusal) =>
    ApplicationFailure.create({ type: ORDER_CANCEL_REFUSED, message: `Order #${orderId}: ${why.reason}`, details: [why], nonRetryable: true })

  setHandler(orderStatusQuery, () => status)
  setHandler(cancelOrderSignal, (signal) => {
    if (delivered || cancel) return
    takeCancel(signal)
  })
  setHandler(
    cancelOrderUpdate,
    async (input): Promise<OrderCancelled> => {
      // A cancel that comes before the order is loaded waits for it: the order may have finished long ago.
      if (!loaded) await condition(() => loaded)
      const refused = cancelRefusal()
      if (refused) throw refuseCancelWith(refused)
      takeCancel({ reason: input.reason, actorUserId: input.actorUserId })
      const at = cancelledAt!
      await condition(() => ended !== null)
      const end = ended!
      // A step already running when the cancel came (a debit, a last provisioning attempt) can still fail the order.
      if (end.outcome !== 'cancelled') throw refuseCancelWith({ reason: 'too_late', orderId, state: end.outcome })
      return { orderId, outcome: 'cancelled', refunded: end.refunded, reason: input.reason, cancelledBy: input.actorUserId, cancelledAt: at }
    },
    {
      validator: (_input) => {
        const refused = cancelRefusal()
        if (refused) throw refuseCancelWith(refused)
      },
    },
  )
  setHandler(paymentOutcomeSignal, (signal) => {
    if (payment) return
    payment = signal
    status.paymentId = signal.paymentId
  })
  setHandler(retryNowSignal, () => {
    retryNow = true
  })

  const record = async (step: OrderStep, failureReason?: string) => {
    status.step = step
    const rowStatus = orderRowStatus(step)
    await steps.recordOrderStep({ workflowId, status: { ...status }, rowStatus, failureReason })
  }
  const publishOnly = () => steps.publishStatus({ workflowId, status: { ...status } })

  const ctx = await steps.loadOrderForWorkflow({ orderId })
  if (ctx.finished) {
    status.step = ctx.finished.status === 'delivered' || ctx.finished.status === 'refunded' ? 'delivered' : ctx.finished.status === 'cancelled' ? 'cancelled' : 'failed'
    status.accountId = ctx.finished.accountId
    status.subscriptionUrl = ctx.finished.subscriptionUrl
    loaded = true
    if (status.step === 'failed') throw ApplicationFailure.create({ type: ORDER_FAILED, message: ctx.finished.failureReason ?? `Order ${orderId} failed`, nonRetryable: true })
    return { orderId, outcome: status.step === 'cancelled' ? 'cancelled' : 'delivered', accountId: status.accountId, subscriptionUrl: status.subscriptionUrl, refunded: '0', reason: ctx.finished.failureReason }
  }
  loaded = true
  const { order, plan } = ctx
  const isRenewal = order.kind !== 'new'

  // ---- undo ---------------------------------------------------------------------------------------
  let debited = false
  const panelsTouched: number[] = []
  let renewalBefore: AccountTermsSnapshot | null = null
  let renewalTouched = false

  const compensate = async (outcome: 'failed' | 'cancelled', reason: string): Promise<string> => {
    status.step = 'compensating'
    status.lastError = outcome === 'failed' ? reason : status.lastError
    await publishOnly()
    let refunded = '0'
    const undo = compensationPlan({ debited, panelsTouched, renewalTouched })
    for (const step of undo) {
      if (step.kind === 'refund') {
        await steps.refundOrderWallet({
          orderId,
          userId: order.userId,
          amount: order.price,
          idempotencyKey: `${workflowId}:refund`,
          note: outcome === 'cancelled' ? `order #${orderId} cancelled` : `order #${orderId} failed: ${reason}`,
        })
        refunded = order.price
        // The buyer has their money back and knows it before the (possibly slow) panel clean-up.
        await record(outcome === 'cancelled' ? 'cancelled' : 'failed', reason)
        ended ??= { outcome, refunded }
        status.step = 'compensating'
      } else if (step.kind === 'delete_panel_user') {
        await cleanup.deletePanelAccount({ orderId, panelId: step.panelId })
      } else if (renewalBefore) {
        await cleanup.applyAccountTerms({ accountId: renewalBefore.accountId, expiresAt: renewalBefore.expiresAt, dataLimitBytes: renewalBefore.dataLimitBytes })
      }
    }
    await record(outcome === 'cancelled' ? 'cancelled' : 'failed', reason)
    ended ??= { outcome, refunded }
    await bestEffort('notification', () =>
      notify.notifyUser({
        key: `${workflowId}:${outcome}`,
        userId: order.userId,
        message: outcome === 'cancelled' ? { kind: 'order_cancelled', orderId, refunded } : { kind: 'order_failed', orderId, reason, refunded },
      }),
    )
    return refunded
  }

  const fail = async (reason: string): Promise<never> => {
    const refunded = await compensate('failed', reason)
    throw ApplicationFailure.create({ type: ORDER_FAILED, message: reason, nonRetryable: true, details: [{ orderId, refunded }] })
  }

  const cancelled = async (): Promise<OrderResult> => {
    const reason = cancel?.reason ?? 'cancelled'
    const refunded = await compensate('cancelled', reason)
    return { orderId, outcome: 'cancelled', accountId: null, subscriptionUrl: null, refunded, reason }
  }

  // ---- pay ----------------------------------------------------------------------------------------
  if (order.payMethod !== 'wallet') {
    await record('awaiting_payment')
    for (;;) {
      const decided = await condition(() => payment !== null || cancel !== null, ctx.config.awaitPaymentMs)
      if (decided) break
      // No outcome in time: keep waiting only while a receipt for this order is still under review.
      const pending = await steps.findOrderPayment({ orderId })
      if (!pending) return fail(`No payment for order #${orderId} arrived in time. Nothing was charged.`)
      status.paymentId = pending.paymentId
    }
    if (cancel) return cancelled()
    const next = afterPaymentOutcome(payment!)
    if (!next.proceed) return fail(next.reason)
  }
  if (cancel) return cancelled()

  status.step = 'paying'
  try {
    await steps.debitOrderWallet({ orderId, userId: order.userId, amount: order.price, idempotencyKey: `${workflowId}:debit` })
    debited = true
  } catch (error) {
    return fail(describeFailure(error).message)
  }
  if (cancel) return cancelled()

  // ---- provision ----------------------------------------------------------------------------------
  await record('provisioning')
  const deadlineMs = ctx.config.provisionDeadlineMs
  const deadline = Date.now() + deadlineMs
  const planTerms = { days: plan.days, dataLimitBytes: BigInt(plan.dataLimitBytes) }
  let created: CreatedPanelAccount | null = null
  let renewal: { accountId: number; expiresAt: number | null; dataLimitBytes: string } | null = null
  let panelId: number | null = null

  while (!created && !renewal) {
    if (cancel) return cancelled()
    status.attempt++
    try {
      if (!isRenewal) {
        if (panelId === null) {
          panelId = (await panelAttempt.choosePanel({ locationId: order.locationId! })).id
        }
        panelsTouched.push(panelId)
        const terms = newAccountTerms(Date.now(), planTerms)
        created = await panelAttempt.createPanelAccount({ orderId, panelId, expiresAt: terms.expiresAt, dataLimitBytes: terms.dataLimitBytes.toString() })
      } else {
        renewalBefore ??= await panelAttempt.readAccountTerms({ accountId: order.accountId! })
        const before = renewalBefore
        const target = renewalTerms(
          Date.now(),
          { expiresAt: before.expiresAt, dataLimitBytes: BigInt(before.dataLimitBytes), dataUsedBytes: BigInt(before.dataUsedBytes) },
          planTerms,
        )
        renewalTouched = true
        await panelAttempt.applyAccountTerms({ accountId: before.accountId, expiresAt: target.expiresAt, dataLimitBytes: target.dataLimitBytes.toString() })
        renewal = { accountId: before.accountId, expiresAt: target.expiresAt, dataLimitBytes: target.dataLimitBytes.toString() }
      }
    } catch (error) {
      const failure = describeFailure(error)
      // Another panel may take the next attempt when this one is away.
      if (!failure.nonRetryable) panelId = null
      const next = afterProvisionFailure({ now: Date.now(), deadline, attempt: status.attempt, failure, deadlineMs })
      status.lastError = failure.message
      log.warn('provisioning attempt failed', { orderId, attempt: status.attempt, error: failure.message, type: failure.type })
      if (next.action === 'give_up') return fail(next.reason)
      await publishOnly()
      retryNow = false
      await condition(() => retryNow || cancel !== null, next.waitMs)
    }
  }
  if (cancel) return cancelled()

  // ---- deliver ------------------------------------------------------------------------------------
  status.step = 'delivering'
  // From here on the order is delivered: a cancel that arrives now is too late.
  delivered = true
  const stored = await steps.deliverOrder({ workflowId, orderId, status: { ...status }, created: created ?? undefined, renewal: renewal ?? undefined })
  status.step = 'delivered'
  ended = { outcome: 'delivered', refunded: '0' }
  status.accountId = stored.accountId
  status.subscriptionUrl = stored.subscriptionUrl
  status.lastError = null
  await bestEffort('notification', () =>
    notify.notifyUser({
      key: `${workflowId}:delivered`,
      userId: order.userId,
      message: { kind: 'order_delivered', orderId, planName: plan.name, subscriptionUrl: stored.subscriptionUrl, expiresAt: stored.expiresAt, renewal: isRenewal },
    }),
  )
  if (created) {
    for (const stray of strayPanels(panelsTouched, created.panelId)) await cleanup.deletePanelAccount({ orderId, panelId: stray })
  }
  return { orderId, outcome: 'delivered', accountId: stored.accountId, subscriptionUrl: stored.subscriptionUrl, refunded: '0', reason: null }
}
