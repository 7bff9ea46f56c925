import type { Db } from './knex.ts'
import type { AccountStatus, DisabledReason, OrderKind, OrderPayMethod, OrderStatus, PaymentMethodKind, PaymentStatus, Role } from './models.ts'

/**
 * Read models of the agent and customer pages and of the reseller API: what one user may see of plans,
 * payment methods, their ledger, payments, orders and accounts. Every query is scoped to the user.
 */

export interface ShopLocation {
  id: number
  code: string
  nameFa: string
  nameEn: string
}

export interface ShopPlan {
  id: number
  nameFa: string
  nameEn: string
  days: number
  dataLimitBytes: string
  /** The price this buyer pays (agent price for agents, public price for everyone else), decimal string. */
  price: string
  locations: ShopLocation[]
}

/**
 * Plans on sale to `userId` at their role's price, each with the active locations it is sold in — for an
 * agent with a location list, only those. Plans with no location left are not listed.
 */
export async function listPlansForBuyer(db: Db, userId: number): Promise<ShopPlan[]> {
  const user: { role: Role } | undefined = await db('users').where({ id: userId }).first('role')
  if (!user) return []
  const allowed: number[] = user.role === 'agent' ? await db('agentLocations').where({ agentUserId: userId }).pluck('locationId') : []
  const plans = await db('plans').where({ active: true }).orderBy(['days', 'id']).select('id', 'nameFa', 'nameEn', 'days', 'dataLimitBytes', 'price', 'agentPrice')
  const links: ({ planId: number } & ShopLocation)[] = await db('planLocations as pl')
    .join('locations as l', 'l.id', 'pl.locationId')
    .where('l.active', true)
    .orderBy('l.id')
    .select('pl.planId', 'l.id', 'l.code', 'l.nameFa', 'l.nameEn')
  return plans
    .map((p) => ({
      id: p.id,
      nameFa: p.nameFa,
      nameEn: p.nameEn,
      days: p.days,
      dataLimitBytes: String(p.dataLimitBytes),
      price: String(user.role === 'agent' ? p.agentPrice : p.price),
      locations: links
        .filter((l) => l.planId === p.id && (allowed.length === 0 || allowed.includes(l.id)))
        .map(({ id, code, nameFa, nameEn }) => ({ id, code, nameFa, nameEn })),
    }))
    .filter((p) => p.locations.length > 0)
}

export interface ShopPaymentMethod {
  id: number
  kind: PaymentMethodKind
  titleFa: string
  titleEn: string
  /** What the payer needs to see: card/SHEBA number, holder, bank, network, wallet address. Never a merchant id. */
  details: Record<string, string>
  dailyAmountLimit: string | null
}

const PUBLIC_DETAILS: Record<PaymentMethodKind, string[]> = {
  CARD: ['cardNumber', 'holder', 'bank'],
  SHEBA: ['sheba', 'holder', 'bank'],
  CRYPTO: ['network', 'address', 'walletAddress'],
  ZARINPAL: [],
}

export async function listPaymentMethods(db: Db, kinds: PaymentMethodKind[]): Promise<ShopPaymentMethod[]> {
  const rows = await db('paymentMethods').where({ active: true }).whereIn('kind', kinds).orderBy('id')
  return rows.map((m) => ({
    id: m.id,
    kind: m.kind,
    titleFa: m.titleFa,
    titleEn: m.titleEn,
    details: Object.fromEntries(
      PUBLIC_DETAILS[m.kind as PaymentMethodKind].filter((k) => typeof m.config?.[k] === 'string' && m.config[k] !== '').map((k) => [k, String(m.config[k])]),
    ),
    dailyAmountLimit: m.dailyAmountLimit === null ? null : String(m.dailyAmountLimit),
  }))
}

export interface Page<T> {
  rows: T[]
  page: number
  hasMore: boolean
}

async function paged<T>(query: { limit(n: number): { offset(n: number): Promise<T[]> } }, page: number, pageSize: number): Promise<Page<T>> {
  const p = Math.max(1, page)
  const rows = await query.limit(pageSize + 1).offset((p - 1) * pageSize)
  return { rows: rows.slice(0, pageSize), page: p, hasMore: rows.length > pageSize }
}

export interface LedgerLine {
  id: string
  type: string
  confirmedDelta: string
  pendingDelta: string
  confirmedAfter: string
  pendingAfter: string
  referenceType: string | null
  referenceId: string | null
  note: string | null
  createdAt: Date
}

export async function listLedgerOfUser(db: Db, userId: number, options: { page?: number; pageSize?: number } = {}): Promise<Page<LedgerLine>> {
  const q = db('ledgerEntries')
    .where({ walletUserId: userId })
    .orderBy('id', 'desc')
    .select(
      db.raw('id::text as id'),
      'type',
      db.raw('confirmed_delta::text as "confirmedDelta"'),
      db.raw('pending_delta::text as "pendingDelta"'),
      db.raw('confirmed_after::text as "confirmedAfter"'),
      db.raw('pending_after::text as "pendingAfter"'),
      'referenceType',
      'referenceId',
      'note',
      'createdAt',
    )
  return paged<LedgerLine>(q as never, options.page ?? 1, options.pageSize ?? 30)
}

export interface PaymentLine {
  id: number
  amount: string
  status: PaymentStatus
  methodKind: PaymentMethodKind
  methodTitleFa: string
  methodTitleEn: string
  orderId: number | null
  note: string | null
  gatewayRefId: string | null
  /** A receipt file is stored (served by /receipts/<id> to the payer and admins). */
  hasReceipt: boolean
  createdAt: Date
  decidedAt: Date | null
}

const PAYMENT_COLUMNS = [
  'p.id',
  'p.amount',
  'p.status',
  'm.kind as methodKind',
  'm.titleFa as methodTitleFa',
  'm.titleEn as methodTitleEn',
  'p.orderId',
  'p.note',
  'p.gatewayRefId',
  'p.receiptPath',
  'p.createdAt',
  'p.decidedAt',
]

function toPaymentLine(row: Omit<PaymentLine, 'hasReceipt'> & { receiptPath: string | null }): PaymentLine {
  const { receiptPath, ...rest } = row
  return { ...rest, amount: String(rest.amount), hasReceipt: receiptPath !== null }
}

export async function listPaymentsOfUser(db: Db, userId: number, options: { page?: number; pageSize?: number } = {}): Promise<Page<PaymentLine>> {
  const q = db('payments as p').join('paymentMethods as m', 'm.id', 'p.methodId').where('p.userId', userId).orderBy('p.id', 'desc').select(PAYMENT_COLUMNS)
  const page = await paged<PaymentLine>(q as never, options.page ?? 1, options.pageSize ?? 30)
  return { ...page, rows: page.rows.map((r) => toPaymentLine(r as never)) }
}

export async function getPaymentOfUser(db: Db, userId: number, paymentId: number): Promise<PaymentLine | undefined> {
  const row = await db('payments as p').join('paymentMethods as m', 'm.id', 'p.methodId').where({ 'p.id': paymentId, 'p.userId': userId }).first(PAYMENT_COLUMNS)
  return row ? toPaymentLine(row) : undefined
}

export interface AccountLine {
  id: number
  orderId: number
  planId: number
  planNameFa: string
  planNameEn: string
  locationId: number
  locationNameFa: string
  locationNameEn: string
  panelUsername: string
  /** The buyer's own name for the account (the order's `requestedUsername`), if they gave one. */
  label: string | null
  /** The note written when the account was ordered. */
  orderNote: string | null
  subscriptionUrl: string | null
  expiresAt: Date | null
  dataLimitBytes: string
  dataUsedBytes: string
  status: AccountStatus
  disabledReason: DisabledReason | null
  note: string | null
  usageSyncedAt: Date | null
  createdAt: Date
}

function accountsQuery(db: Db) {
  return db('accounts as a')
    .join('plans as pl', 'pl.id', 'a.planId')
    .join('panels as pn', 'pn.id', 'a.panelId')
    .join('locations as l', 'l.id', 'pn.locationId')
    .join('orders as o', 'o.id', 'a.orderId')
    .select(
      'a.id',
      'a.orderId',
      'a.planId',
      'pl.nameFa as planNameFa',
      'pl.nameEn as planNameEn',
      'l.id as locationId',
      'l.nameFa as locationNameFa',
      'l.nameEn as locationNameEn',
      'a.panelUsername',
      'o.requestedUsername as label',
      'o.note as orderNote',
      'a.subscriptionUrl',
      'a.expiresAt',
      db.raw('a.data_limit_bytes::text as "dataLimitBytes"'),
      db.raw('a.data_used_bytes::text as "dataUsedBytes"'),
      'a.status',
      'a.disabledReason',
      'a.note',
      'a.usageSyncedAt',
      'a.createdAt',
    )
}

export const ACCOUNT_FILTERS = ['all', 'active', 'disabled', 'limited', 'expired', 'deleted'] as const
export type AccountFilter = (typeof ACCOUNT_FILTERS)[number]

/** The user's accounts, newest first. Deleted ones are listed only when asked for. `search` matches the panel username, the label or the note. */
export async function listAccountsOfUser(
  db: Db,
  userId: number,
  options: { status?: AccountFilter; search?: string; page?: number; pageSize?: number } = {},
): Promise<Page<AccountLine>> {
  const q = accountsQuery(db).where('a.userId', userId).orderBy('a.id', 'desc')
  const status = options.status ?? 'all'
  if (status === 'all') q.whereNot('a.status', 'deleted')
  else q.where('a.status', status)
  const search = options.search?.trim()
  if (search) {
    const like = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
    q.where((w) => w.whereILike('a.panelUsername', like).orWhereILike('o.requestedUsername', like).orWhereILike('o.note', like))
  }
  return paged<AccountLine>(q as never, options.page ?? 1, options.pageSize ?? 25)
}

export async function getAccountOfUser(db: Db, userId: number, accountId: number): Promise<AccountLine | undefined> {
  return accountsQuery(db).where({ 'a.id': accountId, 'a.userId': userId }).first()
}

export async function countAccountsByStatus(db: Db, userId: number): Promise<Record<AccountStatus, number>> {
  const rows: { status: AccountStatus; n: number }[] = await db('accounts').where({ userId }).groupBy('status').select('status', db.raw('count(*)::int as n'))
  const out: Record<AccountStatus, number> = { active: 0, disabled: 0, limited: 0, expired: 0, deleted: 0 }
  for (const r of rows) out[r.status] = r.n
  return out
}

export interface OrderLine {
  id: number
  kind: OrderKind
  status: OrderStatus
  payMethod: OrderPayMethod
  price: string
  planId: number
  planNameFa: string
  planNameEn: string
  locationNameFa: string | null
  locationNameEn: string | null
  accountId: number | null
  requestedUsername: string | null
  note: string | null
  failureReason: string | null
  createdAt: Date
  deliveredAt: Date | null
}

function ordersQuery(db: Db) {
  return db('orders as o')
    .join('plans as pl', 'pl.id', 'o.planId')
    .leftJoin('locations as l', 'l.id', 'o.locationId')
    .select(
      'o.id',
      'o.kind',
      'o.status',
      'o.payMethod',
      db.raw('o.price::text as price'),
      'o.planId',
      'pl.nameFa as planNameFa',
      'pl.nameEn as planNameEn',
      'l.nameFa as locationNameFa',
      'l.nameEn as locationNameEn',
      'o.accountId',
      'o.requestedUsername',
      'o.note',
      'o.failureReason',
      'o.createdAt',
      'o.deliveredAt',
    )
}

export async function listOrdersOfUser(db: Db, userId: number, options: { page?: number; pageSize?: number } = {}): Promise<Page<OrderLine>> {
  return paged<OrderLine>(ordersQuery(db).where('o.userId', userId).orderBy('o.id', 'desc') as never, options.page ?? 1, options.pageSize ?? 20)
}

export async function getOrderOfUser(db: Db, userId: number, orderId: number): Promise<OrderLine | undefined> {
  return ordersQuery(db).where({ 'o.id': orderId, 'o.userId': userId }).first()
}

/** Orders of the user still on their way (not delivered, failed, cancelled or refunded). */
export async function listOpenOrdersOfUser(db: Db, userId: number): Promise<OrderLine[]> {
  return ordersQuery(db).where('o.userId', userId).whereIn('o.status', ['pending', 'awaiting_payment', 'provisioning']).orderBy('o.id', 'desc').limit(20)
}
