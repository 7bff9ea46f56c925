import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow'
import type { Activities } from '#activities/index.ts'
import {
  periodicStatusQuery,
  runPeriodicNowSignal,
  type PeriodicMaintenanceInput,
  type PeriodicPassSummary,
  type PeriodicStatus,
} from '#temporal/messages.ts'
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
 * Periodic maintenance, one long-running loop (see docs/decisions/*-periodic-work.md): panel health checks (which
 * panel selection reads), usage and expiry sync into `accounts` with the 80 % and three-days warnings, and a
 * safety net that every agent below zero has a credit watch. Continues as new after a number of passes.
 */
export async function periodicMaintenance(input: PeriodicMaintenanceInput = {}): Promise<void> {
  const { workflowId } = workflowInfo()
  const status: PeriodicStatus = { passes: input.passesBefore ?? 0, phase: 'checking_health', nextPassAt: null, lastPass: null }
  let runNow = false
  setHandler(periodicStatusQuery, () => status)
  setHandler(runPeriodicNowSignal, () => {
    runNow = true
  })
  const publish = () => steps.publishPeriodicStatus({ workflowId, status: { ...status } })

  const config = await steps.loadPeriodicConfig()
  for (let pass = 0; pass < config.passesPerRun; pass++) {
    const at = Date.now()
    status.phase = 'checking_health'
    const summary: PeriodicPassSummary = { at: new Date(at).toISOString(), panelsChecked: 0, panelsHealthy: 0, accountsSynced: 0, warningsSent: 0, problems: [] }
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

    status.phase = 'syncing'
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

    status.passes++
    status.lastPass = summary
    status.phase = 'sleeping'
    status.nextPassAt = new Date(Date.now() + config.intervalMs).toISOString()
    await publish()
    runNow = false
    await condition(() => runNow, config.intervalMs)
    if (workflowInfo().continueAsNewSuggested) break
  }
  await continueAsNew<typeof periodicMaintenance>({ passesBefore: status.passes })
}
