import { proxyActivities } from '@temporalio/workflow'
import type { Activities } from '#activities/index.ts'
import type { PeriodicPassInput, PeriodicPassSummary } from '#temporal/messages.ts'
import { describeFailure } from '../shared/failure.ts'

const steps = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
})

/** Listing a big panel takes a while; a panel that is away is skipped this pass and tried again next pass. */
const panelSteps = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
})

/**
 * One pass of periodic maintenance, started by the `periodic-maintenance` schedule (see
 * docs/decisions/010-periodic-work-as-schedules.md): panel health checks (which panel selection reads), usage and
 * expiry sync of the healthy panels into `accounts` with the 80 % and three-days warnings, and a safety net that
 * every agent below zero has a credit watch. A step that fails is reported in the result, never fails the pass, so
 * one panel that is away cannot hold up the others; the next pass tries it again.
 */
export async function periodicPass(_input: PeriodicPassInput = {}): Promise<PeriodicPassSummary> {
  const summary: PeriodicPassSummary = { at: new Date(Date.now()).toISOString(), panelsChecked: 0, panelsHealthy: 0, accountsSynced: 0, warningsSent: 0, problems: [] }
  let healthy: number[] = []
  try {
    const health = await panelSteps.checkPanelsHealth()
    summary.panelsChecked = health.checked
    summary.panelsHealthy = health.healthyPanelIds.length
    summary.problems.push(...health.problems)
    healthy = health.healthyPanelIds
  } catch (error) {
    summary.problems.push(`health check: ${describeFailure(error).message}`)
  }

  for (const panelId of healthy) {
    try {
      const result = await panelSteps.syncPanelAccounts({ panelId, at: Date.now() })
      summary.accountsSynced += result.synced
      summary.warningsSent += result.warningsSent
      if (result.missingOnPanel.length > 0) summary.problems.push(`panel ${panelId}: ${result.missingOnPanel.length} accounts missing on the panel`)
    } catch (error) {
      summary.problems.push(`panel ${panelId}: ${describeFailure(error).message}`)
    }
  }
  try {
    await steps.ensureCreditWatches()
  } catch (error) {
    summary.problems.push(`credit watches: ${describeFailure(error).message}`)
  }
  return summary
}
