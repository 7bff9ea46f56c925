import { isGrpcServiceError, ScheduleAlreadyRunning, ServiceError, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client'
import { MAIN_TASK_QUEUE } from './task-queues.ts'

/**
 * flowpanel's schedules (periodic maintenance, reconciliation): each starts one short workflow per interval, with the
 * schedule id as the base of the workflow ids, on the epoch grid, skipping a tick while a run still runs. Every worker
 * start ensures them (docs/decisions/010-periodic-work-as-schedules.md).
 */
export interface IntervalSchedule {
  scheduleId: string
  workflowType: string
  /** Time between runs. */
  intervalMs: number
  /** The workflow's one argument. */
  input: object
  /** What the schedule is for, in error messages ("periodic maintenance"). */
  what: string
}

const GRPC_UNIMPLEMENTED = 12

/**
 * A run missed while Temporal was away is still worth doing within one interval; older ones would only repeat the
 * work the next run does anyway. Temporal's minimum is 10 seconds.
 */
function catchupWindowMs(intervalMs: number): number {
  return Math.max(intervalMs, 10_000)
}

export function desiredSchedule(s: IntervalSchedule) {
  if (!Number.isInteger(s.intervalMs) || s.intervalMs < 1_000) {
    throw new Error(`The ${s.what} interval must be at least one second (got ${s.intervalMs} ms)`)
  }
  const args: [object] = [s.input]
  // Temporal keeps intervals in whole seconds; rounding here lets a restart compare like with like.
  const every = Math.round(s.intervalMs / 1_000) * 1_000
  return {
    spec: { intervals: [{ every }] },
    action: { type: 'startWorkflow' as const, workflowType: s.workflowType, workflowId: s.scheduleId, taskQueue: MAIN_TASK_QUEUE, args },
    // SKIP: a tick while a run still runs adds nothing the next tick will not do, and must not pile up behind a slow one.
    policies: { overlap: 'SKIP' as const, catchupWindow: catchupWindowMs(every), pauseOnFailure: false },
  }
}

function matches(current: ScheduleDescription, s: IntervalSchedule): boolean {
  const want = desiredSchedule(s)
  const { spec, action, policies } = current
  return (
    spec.intervals?.length === 1 &&
    spec.intervals[0]!.every === want.spec.intervals[0]!.every &&
    !spec.intervals[0]!.offset &&
    (spec.calendars?.length ?? 0) === 0 &&
    action.type === 'startWorkflow' &&
    action.workflowType === want.action.workflowType &&
    action.workflowId === want.action.workflowId &&
    action.taskQueue === want.action.taskQueue &&
    policies.overlap === want.policies.overlap &&
    policies.catchupWindow === want.policies.catchupWindow &&
    policies.pauseOnFailure === want.policies.pauseOnFailure
  )
}

/**
 * Makes sure the schedule exists with this configuration; several workers at once included. The first creates it
 * and runs once at once; the others find it and, when the configuration differs, update its spec, action and
 * policies while keeping its state, so a pause set in the Temporal UI stays.
 */
export async function ensureIntervalSchedule(client: Client, s: IntervalSchedule): Promise<'created' | 'updated' | 'unchanged'> {
  const want = desiredSchedule(s)
  try {
    const options: ScheduleOptions = { scheduleId: s.scheduleId, ...want, state: { triggerImmediately: true } }
    await client.schedule.create(options)
    return 'created'
  } catch (error) {
    if (error instanceof ServiceError && isGrpcServiceError(error.cause) && error.cause.code === GRPC_UNIMPLEMENTED) {
      throw new Error(
        `The Temporal server does not implement schedules, which ${s.what} runs from (the time-skipping test server has none): ` +
          'point TEMPORAL_ADDRESS at a full server or the CLI dev server, or start this worker with --no-periodic',
        { cause: error },
      )
    }
    if (!(error instanceof ScheduleAlreadyRunning)) throw error
  }
  const handle = client.schedule.getHandle(s.scheduleId)
  if (matches(await handle.describe(), s)) return 'unchanged'
  await handle.update((current) => ({ ...current, ...want }))
  return 'updated'
}
