import { ApplicationFailure, condition, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow'
import type { Activities } from '#activities/index.ts'
import { refundStatusQuery, retryNowSignal, type RefundAccountInput, type RefundResult, type RefundStatus } from '#temporal/messages.ts'
import { bestEffort } from '../shared/best-effort.ts'
import { describeFailure } from '../shared/failure.ts'
import { panelWaitDelay, refundInputProblem, refundNote, refundSteps } from './rules.ts'

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
})

const panelAttempt = proxyActivities<Activities>({
  startToCloseTimeout: '45 seconds',
  heartbeatTimeout: '10 seconds',
  retry: { maximumAttempts: 1 },
})

const notify = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 8 },
})

/**
 * refund: quote by the policy, make the account stop working on its panel (waiting as long as the panel is away),
 * then ORDER_REFUND the quoted amount, mark the account deleted and tell the owner.
 */
export async function refundAccount(input: RefundAccountInput): Promise<RefundResult> {
  const { workflowId } = workflowInfo()
  const status: RefundStatus = { accountId: input.accountId, step: 'quoting', amount: null, lastError: null }
  let retryNow = false
  setHandler(refundStatusQuery, () => status)
  setHandler(retryNowSignal, () => {
    retryNow = true
  })
  const publish = () => steps.publishRefundStatus({ workflowId, status: { ...status } })

  // Refused before anything happens: a reason the ledger cannot store must not meet a deleted panel user.
  // Histories from before this check replay without it.
  if (patched('refund-input-check')) {
    const problem = refundInputProblem(input)
    if (problem) throw ApplicationFailure.create({ type: 'InvalidRefundInput', message: `Refund of account ${input.accountId} refused: ${problem}`, nonRetryable: true })
  }

  const plan = await steps.quoteAccountRefundAt({ accountId: input.accountId, at: Date.now() })
  status.amount = plan.amount
  const todo = refundSteps(plan)
  if (!todo.removeFromPanel) {
    status.step = 'done'
    status.amount = '0'
    await publish()
    return { accountId: input.accountId, amount: '0', rule: 'already_deleted', panelAction: plan.panelAction }
  }

  status.step = 'removing'
  await publish()
  for (let attempt = 1; ; attempt++) {
    try {
      await panelAttempt.removeAccountFromPanel({ accountId: input.accountId, action: plan.panelAction })
      break
    } catch (error) {
      status.lastError = describeFailure(error).message
      await publish()
      retryNow = false
      await condition(() => retryNow, panelWaitDelay(attempt))
    }
  }
  status.lastError = null

  status.step = 'refunding'
  await publish()
  for (const payment of todo.payments) {
    await steps.refundOrderWallet({
      orderId: payment.orderId,
      userId: plan.userId,
      amount: payment.amount,
      idempotencyKey: `${workflowId}:refund:${payment.orderId}`,
      note: refundNote(plan.username, input.reason),
    })
  }
  await steps.markAccountRefunded({ accountId: input.accountId, action: plan.panelAction, orderIds: todo.payments.map((p) => p.orderId), amount: plan.amount })
  status.step = 'done'
  await publish()
  await bestEffort('refund notification', () =>
    notify.notifyUser({ key: `${workflowId}:done`, userId: plan.userId, message: { kind: 'refund_done', accountId: input.accountId, username: plan.username, amount: plan.amount } }),
  )
  return { accountId: input.accountId, amount: plan.amount, rule: plan.rule, panelAction: plan.panelAction }
}
