import { condition, continueAsNew, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow'
import type { Activities } from '#activities/index.ts'
import {
  creditChangedSignal,
  creditWatchStatusQuery,
  type AgentCreditWatchInput,
  type CreditChangedSignal,
  type CreditWatchResult,
  type CreditWatchStatus,
} from '#temporal/messages.ts'
import { bestEffort } from '../shared/best-effort.ts'
import { describeFailure } from '../shared/failure.ts'
import { forEachBounded } from '../shared/pool.ts'
import { graceDeadline, isNonNegative, latestReport, shouldContinueAsNew } from './rules.ts'

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
})

/** Disabling and re-enabling wait for a panel that is away, however long; each call is idempotent. */
const panelSteps = proxyActivities<Activities>({
  startToCloseTimeout: '45 seconds',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes', nonRetryableErrorTypes: ['NOT_FOUND', 'USERNAME_TAKEN_BY_OTHER'] },
})

const notify = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 8 },
})

/**
 * The 24-hour rule. Started (signal-with-start) when an agent's usable credit goes below zero; every later change
 * of that credit arrives as `creditChanged`. Credit back at zero or above within the grace period: nothing happens.
 * Still negative when it ends: every active account of the agent is disabled on its panel and marked
 * `negative_credit`. When the credit comes back, exactly those accounts are enabled again.
 */
export async function agentCreditWatch(input: AgentCreditWatchInput): Promise<CreditWatchResult> {
  const { workflowId, firstExecutionRunId } = workflowInfo()
  const agentUserId = input.agentUserId
  const status: CreditWatchStatus = {
    agentUserId,
    phase: input.carry ? 'disabled' : 'watching',
    negativeSince: null,
    deadline: null,
    disabledAccountIds: [...(input.carry?.disabledAccountIds ?? [])],
  }
  let report: CreditChangedSignal | null = null
  let usable: string | null = null
  let reports = 0
  setHandler(creditWatchStatusQuery, () => status)
  setHandler(creditChangedSignal, (signal) => {
    report = latestReport(report, signal)
    usable = report.usable
    reports++
  })
  const publish = () => steps.publishCreditWatchStatus({ workflowId, status: { ...status, disabledAccountIds: [...status.disabledAccountIds] } })
  const episode = `${workflowId}:${firstExecutionRunId}`

  let state = await steps.loadCreditState({ agentUserId })
  usable = state.usable

  if (!input.carry) {
    if (isNonNegative(state.usable)) {
      status.phase = 'cleared'
      await publish()
      return { agentUserId, outcome: 'cleared', disabledAccountIds: [], reEnabledAccountIds: [] }
    }
    const now = Date.now()
    status.negativeSince = new Date(now - (state.negativeForMs ?? 0)).toISOString()
    const deadline = graceDeadline(now, state.graceMs, state.negativeForMs)
    status.deadline = new Date(deadline).toISOString()
    await publish()

    for (;;) {
      await condition(() => usable !== null && isNonNegative(usable), Math.max(0, deadline - Date.now()))
      // The database has the last word: a report may be stale, and a top-up may have been undone since.
      state = await steps.loadCreditState({ agentUserId })
      usable = state.usable
      if (isNonNegative(state.usable)) {
        status.phase = 'cleared'
        await publish()
        return { agentUserId, outcome: 'cleared', disabledAccountIds: [], reEnabledAccountIds: [] }
      }
      if (Date.now() >= deadline) break
    }

    status.phase = 'disabled'
    const accountIds = await steps.listActiveAccountsOfAgent({ agentUserId })
    await forEachBounded(accountIds, state.concurrency, async (accountId) => {
      try {
        const { disabled } = await panelSteps.disableAccountForCredit({ accountId })
        if (disabled) status.disabledAccountIds.push(accountId)
      } catch (error) {
        log.warn('account could not be disabled for negative credit', { accountId, error: describeFailure(error).message })
      }
    })
    status.disabledAccountIds.sort((a, b) => a - b)
    await publish()
    const message = { kind: 'credit_accounts_disabled' as const, agent: state.username, count: status.disabledAccountIds.length, usable: state.usable }
    await bestEffort('agent notification', () => notify.notifyUser({ key: `${episode}:disabled`, userId: agentUserId, message }))
    await bestEffort('admin notification', () => notify.notifyAdmins({ key: `${episode}:disabled`, message }))
  }

  for (;;) {
    const seen = reports
    await condition(() => (usable !== null && isNonNegative(usable)) || reports !== seen)
    if (usable !== null && isNonNegative(usable)) {
      state = await steps.loadCreditState({ agentUserId })
      usable = state.usable
      if (isNonNegative(state.usable)) break
    }
    const info = workflowInfo()
    if (shouldContinueAsNew(info.historyLength, info.continueAsNewSuggested)) {
      await continueAsNew<typeof agentCreditWatch>({ agentUserId, carry: { disabledAccountIds: status.disabledAccountIds } })
    }
  }

  status.phase = 'restored'
  const reEnabled: number[] = []
  await forEachBounded(status.disabledAccountIds, state.concurrency, async (accountId) => {
    try {
      const { enabled } = await panelSteps.enableAccountAfterCredit({ accountId })
      if (enabled) reEnabled.push(accountId)
    } catch (error) {
      log.warn('account could not be enabled again', { accountId, error: describeFailure(error).message })
    }
  })
  reEnabled.sort((a, b) => a - b)
  await publish()
  if (status.disabledAccountIds.length > 0) {
    const message = { kind: 'credit_accounts_restored' as const, agent: state.username, count: reEnabled.length }
    await bestEffort('agent notification', () => notify.notifyUser({ key: `${episode}:restored`, userId: agentUserId, message }))
    await bestEffort('admin notification', () => notify.notifyAdmins({ key: `${episode}:restored`, message }))
  }
  return { agentUserId, outcome: 'restored', disabledAccountIds: status.disabledAccountIds, reEnabledAccountIds: reEnabled }
}
