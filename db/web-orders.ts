import { parseId } from '#domain/ids.ts'
import type { Db } from './knex.ts'
import type { AccountStatus, DisabledReason, OrderKind, OrderPayMethod, OrderStatus, Role } from './models.ts'

/** Orders and accounts for the admin console: search, filters and the account page. */

export interface OrderFilter {
  status?: string
  /** Buyer (agent or customer) user id. */
  userId?: number
  panelId?: number
  /** Inclusive day range, `YYYY-MM-DD` in the business time zone. */
  from?: string
  to?: string
  /** Order id, account username or buyer username. */
  q?: string
  page?: number
  pageSize?: number
}

const TZ = 'Asia/Tehran'
const escapeLike = (text: string) => text.replace(/[%_\\]/g, (c) => `\\${c}`)

export interface OrderListRow {
  id: number
  userId: number
  buyerUsername: string
  buyerRole: Role
  planNameFa: string
  planNameEn: string
  kind: OrderKind
  payMethod: OrderPayMethod
  price: bigint
  status: OrderStatus
  workflowId: string | null
  failureReason: string | null
  accountId: number | null
  panelUsername: string | null
  panelName: string | null
  createdAt: Date
}

function dayRange(q: ReturnType<Db>, column: string, filter: { from?: string; to?: string }): void {
  if (filter.from) q.whereRaw(`${column} >= (?::date::timestamp at time zone ?)`, [filter.from, TZ])
  if (filter.to) q.whereRaw(`${column} < ((?::date + 1)::timestamp at time zone ?)`, [filter.to, TZ])
}

export async function searchOrders(db: Db, filter: OrderFilter = {}): Promise<{ rows: OrderListRow[]; hasMore: boolean }> {
  const pageSize = filter.pageSize ?? 50
  const page = Math.max(1, filter.page ?? 1)
  const q = db('orders as o')
    .join('users as u', 'u.id', 'o.userId')
    .join('plans as pl', 'pl.id', 'o.planId')
    .leftJoin('accounts as a', 'a.id', 'o.accountId')
    .leftJoin('panels as p', 'p.id', 'a.panelId')
    .select(
      'o.id',
      'o.userId',
      'u.username as buyerUsername',
      'u.role as buyerRole',
      'pl.nameFa as planNameFa',
      'pl.nameEn as planNameEn',
      'o.kind',
      'o.payMethod',
      'o.price',
      'o.status',
      'o.workflowId',
      'o.failureReason',
      'o.accountId',
      'a.panelUsername',
      'p.name as panelName',
      'o.createdAt',
    )
    .orderBy('o.id', 'desc')
    .limit(pageSize + 1)
    .offset((page - 1) * pageSize)
  if (filter.status) q.where('o.status', filter.status)
  if (filter.userId) q.where('o.userId', filter.userId)
  if (filter.panelId) q.where('a.panelId', filter.panelId)
  dayRange(q, 'o.created_at', filter)
  if (filter.q) {
    const text = filter.q.trim()
    q.where((w) => {
      // Digits may be an order id, if they fit one.
      const id = parseId(text)
      if (id !== null) w.orWhere('o.id', id)
      w.orWhereILike('a.panelUsername', `%${escapeLike(text)}%`).orWhereILike('u.username', `%${escapeLike(text)}%`)
    })
  }
  const rows = await q
  return { rows: rows.slice(0, pageSize).map((r) => ({ ...r, price: BigInt(r.price) })), hasMore: rows.length > pageSize }
}

export interface AccountListRow {
  id: number
  userId: number
  ownerUsername: string
  ownerRole: Role
  panelId: number
  panelName: string
  panelUsername: string
  planNameFa: string
  planNameEn: string
  status: AccountStatus
  disabledReason: DisabledReason | null
  expiresAt: Date | null
  dataLimitBytes: bigint
  dataUsedBytes: bigint
  createdAt: Date
}

function accountQuery(db: Db) {
  return db('accounts as a')
    .join('users as u', 'u.id', 'a.userId')
    .join('panels as p', 'p.id', 'a.panelId')
    .join('plans as pl', 'pl.id', 'a.planId')
    .select(
      'a.id',
      'a.userId',
      'u.username as ownerUsername',
      'u.role as ownerRole',
      'a.panelId',
      'p.name as panelName',
      'a.panelUsername',
      'pl.nameFa as planNameFa',
      'pl.nameEn as planNameEn',
      'a.status',
      'a.disabledReason',
      'a.expiresAt',
      'a.dataLimitBytes',
      'a.dataUsedBytes',
      'a.createdAt',
    )
}

const toAccountRow = (r: Record<string, unknown>) =>
  ({ ...r, dataLimitBytes: BigInt(r.dataLimitBytes as string), dataUsedBytes: BigInt(r.dataUsedBytes as string) }) as AccountListRow

export async function searchAccounts(db: Db, filter: OrderFilter = {}): Promise<{ rows: AccountListRow[]; hasMore: boolean }> {
  const pageSize = filter.pageSize ?? 50
  const page = Math.max(1, filter.page ?? 1)
  const q = accountQuery(db)
    .orderBy('a.id', 'desc')
    .limit(pageSize + 1)
    .offset((page - 1) * pageSize)
  if (filter.status) q.where('a.status', filter.status)
  if (filter.userId) q.where('a.userId', filter.userId)
  if (filter.panelId) q.where('a.panelId', filter.panelId)
  dayRange(q, 'a.created_at', filter)
  if (filter.q) {
    const text = filter.q.trim()
    q.where((w) => {
      const id = parseId(text)
      if (id !== null) w.orWhere('a.id', id)
      w.orWhereILike('a.panelUsername', `%${escapeLike(text)}%`).orWhereILike('u.username', `%${escapeLike(text)}%`)
    })
  }
  const rows = await q
  return { rows: rows.slice(0, pageSize).map(toAccountRow), hasMore: rows.length > pageSize }
}

export interface AccountDetail extends AccountListRow {
  orderId: number
  subscriptionUrl: string | null
  note: string | null
  usageSyncedAt: Date | null
  deletedAt: Date | null
  orders: { id: number; kind: OrderKind; status: OrderStatus; price: bigint; createdAt: Date; workflowId: string | null }[]
}

export async function getAccountDetail(db: Db, id: number): Promise<AccountDetail | undefined> {
  const row = await accountQuery(db).where('a.id', id).first('a.orderId', 'a.subscriptionUrl', 'a.note', 'a.usageSyncedAt', 'a.deletedAt')
  if (!row) return undefined
  const orders = await db('orders')
    .where((w) => w.where({ accountId: id }).orWhere({ id: row.orderId }))
    .orderBy('id', 'desc')
    .select('id', 'kind', 'status', 'price', 'createdAt', 'workflowId')
  return { ...toAccountRow(row), ...row, dataLimitBytes: BigInt(row.dataLimitBytes), dataUsedBytes: BigInt(row.dataUsedBytes), orders: orders.map((o) => ({ ...o, price: BigInt(o.price) })) }
}

/**
 * Records an admin's disable/enable after the panel did it. Enabling only lifts an admin's disable:
 * accounts disabled by the 24-hour rule come back through the credit watch, not by hand.
 */
export async function markAccountAdminState(db: Db, id: number, disabled: boolean): Promise<boolean> {
  const q = db('accounts').where({ id })
  if (disabled) {
    return (await q.where({ status: 'active' }).update({ status: 'disabled', disabledReason: 'admin', updatedAt: db.fn.now() })) > 0
  }
  return (await q.where({ status: 'disabled', disabledReason: 'admin' }).update({ status: 'active', disabledReason: null, updatedAt: db.fn.now() })) > 0
}

export async function listUsersForFilter(db: Db): Promise<{ id: number; username: string; role: Role }[]> {
  return db('users').whereIn('role', ['agent']).orderBy('username').select('id', 'username', 'role')
}
