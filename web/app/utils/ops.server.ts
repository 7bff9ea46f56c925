import type { Client, WorkflowExecutionDescription } from '@temporalio/client'
import { orderStatusQuery, refundStatusQuery, WORKFLOW_TYPES } from '#temporal/messages.ts'

/** What the ops page shows about one workflow execution. */
export interface OpsWorkflow {
  workflowId: string
  runId: string
  type: string
  status: string
  startTime: Date
  closeTime: Date | null
  historyLength: number
  pendingActivities: OpsActivity[]
  /** The workflow's own account of its progress (order and refund workflows retry panel steps themselves). */
  live: { step: string; attempt: number; lastError: string | null } | null
  /** An activity is retrying (attempt > 1) or has failed, or the workflow reports a failed attempt. */
  stuck: boolean
}

export interface OpsActivity {
  activityId: string
  type: string
  state: string
  attempt: number
  maximumAttempts: number
  lastFailure: string | null
  nextAttemptAt: Date | null
  lastStartedAt: Date | null
}

type Timestamp = { seconds?: unknown; nanos?: number | null } | null | undefined

function tsToDate(ts: Timestamp): Date | null {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return null
  const s = ts.seconds as number | string | { toNumber(): number }
  const seconds = typeof s === 'object' ? s.toNumber() : Number(s)
  return new Date(seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6))
}

const STATE_NAMES: Record<number, string> = { 1: 'SCHEDULED', 2: 'STARTED', 3: 'CANCEL_REQUESTED', 4: 'PAUSED', 5: 'PAUSE_REQUESTED' }

export function toOpsWorkflow(d: WorkflowExecutionDescription): OpsWorkflow {
  const pendingActivities = (d.raw.pendingActivities ?? []).map((a): OpsActivity => {
    const state = typeof a.state === 'number' ? (STATE_NAMES[a.state] ?? String(a.state)) : String(a.state ?? '')
    return {
      activityId: a.activityId ?? '',
      type: a.activityType?.name ?? '',
      state: state.replace(/^PENDING_ACTIVITY_STATE_/, ''),
      attempt: a.attempt ?? 1,
      maximumAttempts: a.maximumAttempts ?? 0,
      lastFailure: a.lastFailure?.message ?? null,
      nextAttemptAt: tsToDate(a.nextAttemptScheduleTime as Timestamp),
      lastStartedAt: tsToDate(a.lastStartedTime as Timestamp),
    }
  })
  return {
    workflowId: d.workflowId,
    runId: d.runId,
    type: d.type,
    status: d.status.name,
    startTime: d.startTime,
    closeTime: d.closeTime ?? null,
    historyLength: d.historyLength,
    pendingActivities,
    live: null,
    stuck: pendingActivities.some((a) => a.attempt > 1 || a.lastFailure !== null),
  }
}

/** Adds what the workflow itself says about its step, attempt and last error (order and refund workflows). */
export async function withLiveStatus(client: Client, row: OpsWorkflow): Promise<OpsWorkflow> {
  if (row.status !== 'RUNNING') return row
  const handle = client.workflow.getHandle(row.workflowId)
  try {
    if (row.type === WORKFLOW_TYPES.orderToProvision) {
      const s = await handle.query(orderStatusQuery)
      const live = { step: s.step, attempt: s.attempt, lastError: s.lastError }
      return { ...row, live, stuck: row.stuck || s.lastError !== null || s.attempt > 1 }
    }
    if (row.type === WORKFLOW_TYPES.refundAccount) {
      const s = await handle.query(refundStatusQuery)
      const live = { step: s.step, attempt: 0, lastError: s.lastError }
      return { ...row, live, stuck: row.stuck || s.lastError !== null }
    }
  } catch {
    // A workflow that cannot answer queries right now is listed with what describe() told.
  }
  return row
}

export const KNOWN_TYPES = Object.values(WORKFLOW_TYPES) as string[]

/**
 * Running workflows (optionally of one type), each described for its pending activities; stuck ones first,
 * then oldest first. Describing is bounded to a few calls at a time.
 */
export async function listRunningWorkflows(client: Client, options: { type?: string; limit?: number } = {}): Promise<{ rows: OpsWorkflow[]; truncated: boolean }> {
  const limit = options.limit ?? 200
  const clauses = [`ExecutionStatus = 'Running'`]
  if (options.type) clauses.push(`WorkflowType = '${options.type.replace(/'/g, '')}'`)
  const ids: string[] = []
  let truncated = false
  for await (const info of client.workflow.list({ query: clauses.join(' AND '), pageSize: 100 })) {
    // Filter again: a server with limited visibility queries may return more than asked.
    if (info.status.name !== 'RUNNING' || (options.type && info.type !== options.type)) continue
    if (ids.length >= limit) {
      truncated = true
      break
    }
    ids.push(info.workflowId)
  }
  const rows: OpsWorkflow[] = []
  for (let i = 0; i < ids.length; i += 8) {
    const batch = await Promise.all(
      ids.slice(i, i + 8).map((id) =>
        client.workflow
          .getHandle(id)
          .describe()
          .then((d) => withLiveStatus(client, toOpsWorkflow(d)))
          .catch(() => null),
      ),
    )
    for (const row of batch) if (row) rows.push(row)
  }
  rows.sort((a, b) => Number(b.stuck) - Number(a.stuck) || a.startTime.getTime() - b.startTime.getTime())
  return { rows, truncated }
}

/** Link to one workflow in the Temporal UI. */
export function temporalUiLink(uiUrl: string | undefined, namespace: string, workflowId: string, runId?: string): string | null {
  if (!uiUrl) return null
  const base = uiUrl.replace(/\/+$/, '')
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}${runId ? `/${encodeURIComponent(runId)}` : ''}`
}
