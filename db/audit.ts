import type { Db } from './knex.ts'

/**
 * The audit log: who did what, to what, when and from where. Every admin mutation and every security event
 * (sign-in, two-step changes, sign-out everywhere) writes one row. `detail` must never hold secrets
 * (passwords, TOTP secrets, panel credentials): callers pass only what a reviewer needs.
 */
export interface AuditEntryInput {
  actorUserId: number | null
  action: string
  targetType?: string | null
  targetId?: string | number | null
  detail?: Record<string, unknown>
  ip?: string | null
  userAgent?: string | null
}

export async function writeAudit(db: Db, entry: AuditEntryInput): Promise<void> {
  await db('auditLog').insert({
    actorUserId: entry.actorUserId,
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId === undefined || entry.targetId === null ? null : String(entry.targetId),
    detail: JSON.stringify(entry.detail ?? {}),
    ip: entry.ip ?? null,
    userAgent: entry.userAgent?.slice(0, 300) ?? null,
  })
}

export interface AuditRow {
  id: string
  actorUserId: number | null
  actorUsername: string | null
  action: string
  targetType: string | null
  targetId: string | null
  detail: Record<string, unknown>
  ip: string | null
  createdAt: Date
}

export interface AuditFilter {
  actor?: string
  action?: string
  target?: string
  page?: number
  pageSize?: number
}

/** Newest first; `actor` matches a username, `action` a prefix such as `agent.`, `target` `type:id` or `type`. */
export async function listAudit(db: Db, filter: AuditFilter = {}): Promise<{ rows: AuditRow[]; hasMore: boolean }> {
  const pageSize = filter.pageSize ?? 50
  const page = Math.max(1, filter.page ?? 1)
  const q = db('auditLog as a')
    .leftJoin('users as u', 'u.id', 'a.actorUserId')
    .select('a.id', 'a.actorUserId', 'u.username as actorUsername', 'a.action', 'a.targetType', 'a.targetId', 'a.detail', 'a.ip', 'a.createdAt')
    .orderBy('a.id', 'desc')
    .limit(pageSize + 1)
    .offset((page - 1) * pageSize)
  if (filter.actor) q.whereRaw('lower(u.username) = lower(?)', [filter.actor])
  if (filter.action) q.where('a.action', 'like', `${filter.action.replace(/[%_\\]/g, (c) => `\\${c}`)}%`)
  if (filter.target) {
    const [type, id] = filter.target.split(':')
    q.where('a.targetType', type ?? '')
    if (id) q.where('a.targetId', id)
  }
  const rows: AuditRow[] = await q
  return { rows: rows.slice(0, pageSize), hasMore: rows.length > pageSize }
}
