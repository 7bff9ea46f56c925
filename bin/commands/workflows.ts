import { ScheduleNotFoundError, type Client } from '@temporalio/client'
import { getEnv } from '#config/env.ts'
import type { Db } from '#db/knex.ts'
import { findLostWork, listReconciliations, type LostWorkItem } from '#db/reconcile.ts'
import { parseId } from '#domain/ids.ts'
import { orderStatusQuery, refundStatusQuery } from '#temporal/messages.ts'
import { createTemporalClient } from '#temporal/client.ts'
import { runReconcileNow } from '#temporal/reconcile.ts'
import { parseWorkflowId } from '#temporal/workflow-ids.ts'
import { decideReconcile, describeFound } from '#workflows/reconcile/rules.ts'
import { parseDuration } from '#config/env.ts'
import { idArg, optionalFlag, UsageError, type Command, type Flags } from '../cli.ts'
import { withCliDatabase } from './db.ts'

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

/** What the next reconcile pass will do with lost work, in a few words. */
function nextPass(item: LostWorkItem): string {
  const decision = decideReconcile(item.facts)
  return decision.action === 'restart' ? 'the next reconcile pass starts it again' : `the next reconcile pass settles it as ${decision.outcome}`
}

const stuckCommand: Command = {
  name: ['workflows', 'stuck'],
  usage: 'workflows stuck [--older-than 5m]',
  summary: 'List running workflows whose steps keep failing, and work whose workflow is missing or closed (exit 1 when there are any)',
  async run({ flags, out }) {
    const raw = optionalFlag(flags, 'older-than') ?? '0s'
    const olderThanMs = parseDuration(raw)
    if (olderThanMs === undefined) throw new UsageError(`--older-than must be a duration such as 10m or 2h (got "${raw}")`)
    return withCliDatabase(flags, 'workflows stuck', (db) =>
      withCliTemporal(async (client) => {
        const stuck = await findStuckWorkflows(client, { olderThanMs })
        const { lost } = await findLostWork(db, client, { olderThan: new Date(Date.now() - olderThanMs) })
        if (stuck.length === 0 && lost.length === 0) {
          out('no stuck workflows')
          return 0
        }
        for (const s of stuck) out(`${s.workflowId}\t${s.type}\tstarted ${s.startedAt.toISOString()}\t${s.reason}`)
        for (const l of lost) out(`${l.row.workflowId}\t${describeFound(l.facts.workflow)}\t${l.row.kind} #${l.row.id} is ${l.row.rowStatus}\t${nextPass(l)}`)
        return 1
      }),
    )
  },
}

const reconciledCommand: Command = {
  name: ['workflows', 'reconciled'],
  usage: 'workflows reconciled [--limit 20]',
  summary: 'List what the reconciler did lately: work whose workflow was lost, started again or settled',
  async run({ flags, out }) {
    const raw = optionalFlag(flags, 'limit') ?? '20'
    if (!/^[0-9]{1,4}$/.test(raw) || Number(raw) < 1) throw new UsageError(`--limit must be a whole number from 1 to 9999 (got "${raw}")`)
    return withCliDatabase(flags, 'workflows reconciled', async (db) => {
      const rows = await listReconciliations(db, { limit: Number(raw) })
      if (rows.length === 0) out('nothing reconciled yet')
      for (const r of rows) {
        const done = r.action === 'restarted' ? 'started again' : `settled as ${r.outcome}${r.refunded !== '0' ? `, ${r.refunded} refunded` : ''}`
        out(`${r.at.toISOString()}\t${r.kind} #${r.id} (${r.workflowId})\t${done}\t${r.why}`)
      }
      return 0
    })
  },
}

const reconcileCommand: Command = {
  name: ['workflows', 'reconcile'],
  usage: 'workflows reconcile',
  summary: 'Run a reconcile pass now (after the running one, if a pass is running)',
  async run({ out }) {
    return withCliTemporal(async (client) => {
      try {
        await runReconcileNow(client)
      } catch (error) {
        if (!(error instanceof ScheduleNotFoundError)) throw error
        process.stderr.write('no reconcile schedule yet: start a worker without --no-periodic\n')
        return 1
      }
      out('reconcile pass requested; `workflows reconciled` shows what it did')
      return 0
    })
  },
}

export const commands: Command[] = [stuckCommand, reconciledCommand, reconcileCommand]
