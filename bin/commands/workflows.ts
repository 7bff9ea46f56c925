import type { Client } from '@temporalio/client'
import { getEnv } from '#config/env.ts'
import type { Db } from '#db/knex.ts'
import { parseId } from '#domain/ids.ts'
import { orderStatusQuery, refundStatusQuery } from '#temporal/messages.ts'
import { createTemporalClient } from '#temporal/client.ts'
import { parseWorkflowId } from '#temporal/workflow-ids.ts'
import { parseDuration } from '#config/env.ts'
import { idArg, optionalFlag, UsageError, type Command, type Flags } from '../cli.ts'

/** Opens a Temporal client for one CLI command (TEMPORAL_ADDRESS, else the dev server's default) and closes it. */
export async function withCliTemporal<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const temporal = await createTemporalClient(getEnv())
  try {
    return await fn(temporal.client)
  } finally {
    await temporal.close()
  }
}

/** A user given as a numeric id or a username. */
export async function resolveUser(db: Db, value: string, flag = 'user'): Promise<{ id: number; username: string; role: string }> {
  const id = /^[0-9]+$/.test(value) ? parseId(value) : undefined
  if (id === null) throw new UsageError(`--${flag}: no user "${value}"`)
  const query = id !== undefined ? db('users').where({ id }) : db('users').whereRaw('lower(username) = lower(?)', [value])
  const user = await query.first('id', 'username', 'role')
  if (!user) throw new UsageError(`--${flag}: no user "${value}"`)
  return user
}

/** The admin a decision is recorded under: `--admin`, else the only (or first) admin. */
export async function resolveAdmin(db: Db, flags: Flags): Promise<{ id: number; username: string }> {
  const given = optionalFlag(flags, 'admin')
  if (given !== undefined) {
    const user = await resolveUser(db, given, 'admin')
    if (user.role !== 'admin') throw new UsageError(`--admin: "${given}" is not an admin`)
    return user
  }
  const admin = await db('users').where({ role: 'admin', status: 'active' }).orderBy('id').first('id', 'username')
  if (!admin) throw new UsageError('no admin exists yet: create one with `admin create`, or pass --admin')
  return admin
}

export const positiveId = idArg

export interface StuckWorkflow {
  workflowId: string
  type: string
  startedAt: Date
  reason: string
}

/**
 * Running workflows that are not moving: an activity that keeps failing (attempt > 1, with its last failure), or an
 * order or refund whose own retry loop reports an error. Waiting for people (a payment decision, credit coming back)
 * is not stuck.
 */
export async function findStuckWorkflows(client: Client, options: { olderThanMs: number; now?: number }): Promise<StuckWorkflow[]> {
  const now = options.now ?? Date.now()
  const stuck: StuckWorkflow[] = []
  for await (const info of client.workflow.list({ query: 'ExecutionStatus = "Running"' })) {
    if (now - info.startTime.getTime() < options.olderThanMs) continue
    const handle = client.workflow.getHandle(info.workflowId, info.runId)
    const description = await handle.describe()
    const reasons: string[] = []
    for (const activity of description.raw.pendingActivities ?? []) {
      const attempt = activity.attempt ?? 1
      if (attempt > 1 || activity.lastFailure) {
        reasons.push(`activity ${activity.activityType?.name ?? '?'} attempt ${attempt}: ${activity.lastFailure?.message ?? 'retrying'}`)
      }
    }
    const kind = parseWorkflowId(info.workflowId)?.kind
    try {
      if (kind === 'order') {
        const status = await handle.query(orderStatusQuery)
        if (status.lastError && status.step !== 'delivered') reasons.push(`${status.step}, attempt ${status.attempt}: ${status.lastError}`)
      } else if (kind === 'refund') {
        const status = await handle.query(refundStatusQuery)
        if (status.lastError) reasons.push(`${status.step}: ${status.lastError}`)
      }
    } catch {
      // A workflow that cannot answer a query right now is judged by its activities alone.
    }
    if (reasons.length > 0) stuck.push({ workflowId: info.workflowId, type: info.type, startedAt: info.startTime, reason: reasons.join('; ') })
  }
  return stuck.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime())
}

const stuckCommand: Command = {
  name: ['workflows', 'stuck'],
  usage: 'workflows stuck [--older-than 5m]',
  summary: 'List running workflows whose steps keep failing (exit 1 when there are any)',
  async run({ flags, out }) {
    const raw = optionalFlag(flags, 'older-than') ?? '0s'
    const olderThanMs = parseDuration(raw)
    if (olderThanMs === undefined) throw new UsageError(`--older-than must be a duration such as 10m or 2h (got "${raw}")`)
    return withCliTemporal(async (client) => {
      const stuck = await findStuckWorkflows(client, { olderThanMs })
      if (stuck.length === 0) {
        out('no stuck workflows')
        return 0
      }
      for (const s of stuck) out(`${s.workflowId}\t${s.type}\tstarted ${s.startedAt.toISOString()}\t${s.reason}`)
      return 1
    })
  },
}

export const commands: Command[] = [stuckCommand]
