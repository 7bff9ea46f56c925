import type { Db } from './knex.ts'
import type { PanelHealth } from './models.ts'

/** Read models for the admin dashboard. Days are Iran days (Asia/Tehran), the business's calendar. */

export const BUSINESS_TIME_ZONE = 'Asia/Tehran'

/** Payments waiting for an admin (online gateway payments are confirmed by the gateway, not counted). */
export async function countPendingPayments(db: Db): Promise<number> {
  const row = await db('payments as p')
    .join('paymentMethods as m', 'm.id', 'p.methodId')
    .where('p.status', 'PENDING')
    .whereNot('m.kind', 'ZARINPAL')
    .count<{ count: string }[]>('* as count')
    .first()
  return Number(row?.count ?? 0)
}

/** Orders placed today that were not failed or cancelled: their count and the sum of their prices. */
export async function todaySales(db: Db): Promise<{ total: bigint; count: number }> {
  const row = await db('orders')
    .whereNotIn('status', ['failed', 'cancelled'])
    .whereRaw(`created_at >= (date_trunc('day', now() at time zone ?) at time zone ?)`, [BUSINESS_TIME_ZONE, BUSINESS_TIME_ZONE])
    .first(db.raw('count(*)::int as count'), db.raw('coalesce(sum(price), 0)::text as total'))
  return { total: BigInt(row?.total ?? '0'), count: Number(row?.count ?? 0) }
}

export async function countActiveAccounts(db: Db): Promise<number> {
  const row = await db('accounts').where({ status: 'active' }).count<{ count: string }[]>('* as count').first()
  return Number(row?.count ?? 0)
}

export interface NegativeAgent {
  userId: number
  username: string
  firstName: string
  lastName: string
  shopName: string | null
  confirmed: bigint
  pending: bigint
  usable: bigint
  negativeSince: Date
}

/** Agents whose usable credit is below zero, longest first. */
export async function negativeAgents(db: Db): Promise<NegativeAgent[]> {
  const rows = await db('wallets as w')
    .join('users as u', 'u.id', 'w.userId')
    .join('agents as a', 'a.userId', 'w.userId')
    .whereNotNull('w.negativeSince')
    .where('u.role', 'agent')
    .orderBy('w.negativeSince', 'asc')
    .select('w.userId', 'u.username', 'a.firstName', 'a.lastName', 'a.shopName', 'w.confirmed', 'w.pending', 'w.negativeSince')
  return rows.map((r) => ({
    ...r,
    confirmed: BigInt(r.confirmed),
    pending: BigInt(r.pending),
    usable: BigInt(r.confirmed) + BigInt(r.pending),
    negativeSince: new Date(r.negativeSince),
  }))
}

export interface PanelHealthRow {
  id: number
  name: string
  type: string
  active: boolean
  healthStatus: PanelHealth
  healthDetail: string | null
  healthCheckedAt: Date | null
  capacity: number
  activeAccounts: number
  locationNameFa: string
  locationNameEn: string
}

export async function panelHealth(db: Db): Promise<PanelHealthRow[]> {
  const rows = await db('panels as p')
    .join('locations as l', 'l.id', 'p.locationId')
    .leftJoin(db('accounts').where({ status: 'active' }).groupBy('panelId').select('panelId', db.raw('count(*)::int as n')).as('c'), 'c.panelId', 'p.id')
    .orderBy([{ column: 'p.active', order: 'desc' }, { column: 'p.name' }])
    .select(
      'p.id',
      'p.name',
      'p.type',
      'p.active',
      'p.healthStatus',
      'p.healthDetail',
      'p.healthCheckedAt',
      'p.capacity',
      db.raw('coalesce(c.n, 0)::int as "activeAccounts"'),
      'l.nameFa as locationNameFa',
      'l.nameEn as locationNameEn',
    )
  return rows as PanelHealthRow[]
}
