import { ScheduleNotFoundError, WorkflowNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client'
import { PERIODIC_SCHEDULE_ID, WORKFLOW_TYPES, type PeriodicPassInput, type PeriodicPassSummary } from './messages.ts'
import { ensureIntervalSchedule, type IntervalSchedule } from './schedules.ts'

/**
 * The `periodic-maintenance` schedule (docs/decisions/010-periodic-work-as-schedules.md): every worker start ensures it,
 * an admin can run a pass now, and its status is read back from Temporal (the schedule's description and the result
 * of the last pass), never from memory.
 */

/** The workflow type of the loop that ran periodic work before the schedule (docs/decisions/008-periodic-work.md). */
export const LEGACY_PERIODIC_WORKFLOW_TYPE = 'periodicMaintenance'

export interface PeriodicScheduleConfig {
  /** Time between passes (`PERIODIC_INTERVAL`). */
  intervalMs: number
}

function periodicSchedule(config: PeriodicScheduleConfig): IntervalSchedule {
  const input: PeriodicPassInput = {}
  return { scheduleId: PERIODIC_SCHEDULE_ID, workflowType: WORKFLOW_TYPES.periodicPass, intervalMs: config.intervalMs, input, what: 'periodic maintenance' }
}

/**
 * Makes sure the schedule exists with this configuration; every worker start calls it, several at once included.
 * The first creates it and runs a pass at once (as the worker start did before); the others find it and, when the
 * configuration differs (a new `PERIODIC_INTERVAL`), update its spec, action and policies while keeping its state,
 * so a pause set in the Temporal UI stays. Then the loop of ADR 008, if it still runs, is terminated.
 */
export async function ensurePeriodicSchedule(client: Client, config: PeriodicScheduleConfig): Promise<'created' | 'updated' | 'unchanged'> {
  const outcome = await ensureIntervalSchedule(client, periodicSchedule(config))
  await retireLegacyLoop(client)
  return outcome
}

/** Terminates the long-running loop that did periodic work before the schedule, which no worker registers any more. */
async function retireLegacyLoop(client: Client): Promise<void> {
  const handle = client.workflow.getHandle(PERIODIC_SCHEDULE_ID)
  try {
    const description = await handle.describe()
    if (description.status.name !== 'RUNNING' || description.type !== LEGACY_PERIODIC_WORKFLOW_TYPE) return
    await handle.terminate('periodic work now runs from the periodic-maintenance schedule (docs/decisions/010-periodic-work-as-schedules.md)')
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return
    throw error
  }
}

/**
 * Runs a pass now. BUFFER_ONE rather than the schedule's SKIP: a pass asked for while one is running is not dropped,
 * it starts when that one ends (and a second click meanwhile adds nothing). The SDK's default for a trigger would
 * be ALLOW_ALL, which runs two passes over the same panels at once.
 * Throws ScheduleNotFoundError when no worker has created the schedule yet.
 */
export async function runPeriodicPassNow(client: Client): Promise<void> {
  await client.schedule.getHandle(PERIODIC_SCHEDULE_ID).trigger('BUFFER_ONE')
}

export interface PeriodicPassRecord {
  workflowId: string
  /**
   * Temporal names a pass after the second it was scheduled for, so a "run now" in the same second as another pass
   * reuses that workflow id; the run id tells them apart.
   */
  runId: string
  /** When the schedule meant it to run (a "run now" is scheduled at the moment it was asked for). */
  scheduledAt: string
  startedAt: string
  /** The pass workflow's status, lower case: completed, failed, terminated, timed_out, … */
  outcome: string
  /** The pass's own summary (its result) when it completed. */
  summary: PeriodicPassSummary | null
}

/** What the CLI shows about periodic work: all of it read from Temporal. */
export interface PeriodicStatus {
  scheduleId: string
  schedule: 'missing' | 'active' | 'paused'
  /** The note a pause was given (Temporal UI, CLI). */
  note: string | null
  intervalMs: number | null
  nextPassAt: string | null
  /** Passes running now (workflow ids). */
  running: string[]
  /** Passes the schedule has started so far, and ticks it skipped because a pass was still running. */
  passesStarted: number
  skippedOverlap: number
  /** The most recent pass that has finished. */
  lastPass: PeriodicPassRecord | null
}

/**
 * The status of periodic work from durable state: the schedule's description (next action time, running and recent
 * actions) and the result of the newest finished pass among the recent ones (kept by Temporal for the namespace's
 * retention).
 */
export async function readPeriodicStatus(client: Client): Promise<PeriodicStatus> {
  let d: ScheduleDescription
  try {
    d = await client.schedule.getHandle(PERIODIC_SCHEDULE_ID).describe()
  } catch (error) {
    if (!(error instanceof ScheduleNotFoundError)) throw error
    return { scheduleId: PERIODIC_SCHEDULE_ID, schedule: 'missing', note: null, intervalMs: null, nextPassAt: null, running: [], passesStarted: 0, skippedOverlap: 0, lastPass: null }
  }
  const running = d.info.runningActions.map((a) => a.workflow.workflowId)
  let lastPass: PeriodicPassRecord | null = null
  // Recent actions come oldest first.
  for (const action of [...d.info.recentActions].reverse()) {
    const { workflowId, firstExecutionRunId } = action.action.workflow
    const handle = client.workflow.getHandle<() => Promise<PeriodicPassSummary>>(workflowId, firstExecutionRunId)
    let status: string
    try {
      status = (await handle.describe()).status.name
    } catch (error) {
      // Past the namespace's retention: older actions are gone too.
      if (error instanceof WorkflowNotFoundError) break
      throw error
    }
    if (status === 'RUNNING') continue
    lastPass = {
      workflowId,
      runId: firstExecutionRunId,
      scheduledAt: action.scheduledAt.toISOString(),
      startedAt: action.takenAt.toISOString(),
      outcome: status.toLowerCase(),
      summary: status === 'COMPLETED' ? await handle.result() : null,
    }
    break
  }
  const interval = d.spec.intervals?.[0]?.every
  return {
    scheduleId: PERIODIC_SCHEDULE_ID,
    schedule: d.state.paused ? 'paused' : 'active',
    note: d.state.note || null,
    intervalMs: typeof interval === 'number' ? interval : null,
    nextPassAt: d.info.nextActionTimes[0]?.toISOString() ?? null,
    running,
    passesStarted: d.info.numActionsTaken,
    skippedOverlap: d.info.numActionsSkippedOverlap,
    lastPass,
  }
}
