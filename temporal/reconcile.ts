import type { Client } from '@temporalio/client'
import { RECONCILE_SCHEDULE_ID, WORKFLOW_TYPES, type ReconcilePassInput } from './messages.ts'
import { ensureIntervalSchedule } from './schedules.ts'

/**
 * The `reconcile` schedule (docs/decisions/011-reconciler.md): a pass every `RECONCILE_INTERVAL` that finds rows whose
 * workflow was lost and starts it again or settles the row. Every worker start ensures it, next to periodic
 * maintenance; an admin can run a pass now.
 */
export interface ReconcileScheduleConfig {
  /** Time between passes (`RECONCILE_INTERVAL`). */
  intervalMs: number
}

export function ensureReconcileSchedule(client: Client, config: ReconcileScheduleConfig): Promise<'created' | 'updated' | 'unchanged'> {
  const input: ReconcilePassInput = {}
  return ensureIntervalSchedule(client, { scheduleId: RECONCILE_SCHEDULE_ID, workflowType: WORKFLOW_TYPES.reconcilePass, intervalMs: config.intervalMs, input, what: 'reconciliation' })
}

/**
 * Runs a pass now, after the running one if a pass is running (BUFFER_ONE: two passes never settle the same row at
 * once). Throws ScheduleNotFoundError when no worker has created the schedule yet.
 */
export async function runReconcileNow(client: Client): Promise<void> {
  await client.schedule.getHandle(RECONCILE_SCHEDULE_ID).trigger('BUFFER_ONE')
}
