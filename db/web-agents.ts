import type { Db } from './knex.ts'
import { createUser, hashNewPassword } from './users.ts'

/** Agents (resellers) as the admin console manages them: sign-in, profile, limits and allowed locations. */

export interface AgentProfileInput {
  firstName: string
  lastName: string
  phone: string | null
  shopName: string | null
  address: string | null
  maxActiveAccounts: number | null
  mayDeleteForRefund: boolean
  /** Empty: every location. */
  locationIds: number[]
}

export interface AgentListRow {
  userId: number
  username: string
  status: 'active' | 'disabled'
  firstName: string
  lastName: string
  phone: string | null
  shopName: string | null
  confirmed: bigint
  pending: bigint
  negativeSince: Date | null
  activeAccounts: number
  maxActiveAccounts: number | null
}

export async function listAgents(db: Db, filter: { q?: string; page?: number; pageSize?: number } = {}): Promise<{ rows: AgentListRow[]; hasMore: boolean }> {
  const pageSize = filter.pageSize ?? 50
  const page = Math.max(1, filter.page ?? 1)
  const q = db('agents as a')
    .join('users as u', 'u.id', 'a.userId')
    .join('wallets as w', 'w.userId', 'a.userId')
    .leftJoin(db('accounts').where({ status: 'active' }).groupBy('userId').select('userId', db.raw('count(*)::int as n')).as('c'), 'c.userId', 'a.userId')
    .select(
      'a.userId',
      'u.username',
      'u.status',
      'a.firstName',
      'a.lastName',
      'a.phone',
      'a.shopName',
      'a.maxActiveAccounts',
      'w.confirmed',
      'w.pending',
      'w.negativeSince',
      db.raw('coalesce(c.n, 0)::int as "activeAccounts"'),
    )
    .orderBy('a.userId', 'desc')
    .limit(pageSize + 1)
    .offset((page - 1) * pageSize)
  if (filter.q) {
    const like = `%${filter.q.replace(/[%_\\]/g, (c) => `\\${c}`)}%`
    q.where((w) =>
      w
        .whereILike('u.username', like)
        .orWhereILike('a.firstName', like)
        .orWhereILike('a.lastName', like)
        .orWhereILike('a.phone', like)
        .orWhereILike('a.shopName', like),
    )
  }
  const rows = await q
  return {
    rows: rows.slice(0, pageSize).map((r) => ({ ...r, confirmed: BigInt(r.confirmed), pending: BigInt(r.pending) })),
    hasMore: rows.length > pageSize,
  }
}

export interface AgentDetail extends AgentListRow {
  address: string | null
  mayDeleteForRefund: boolean
  locationIds: number[]
  totpEnabled: boolean
  createdAt: Date
}

export async function getAgent(db: Db, userId: number): Promise<AgentDetail | undefined> {
  const row = await db('agents as a')
    .join('users as u', 'u.id', 'a.userId')
    .join('wallets as w', 'w.userId', 'a.userId')
    .where('a.userId', userId)
    .first(
      'a.userId',
      'u.username',
      'u.status',
      'u.totpEnabled',
      'a.firstName',
      'a.lastName',
      'a.phone',
      'a.shopName',
      'a.address',
      'a.maxActiveAccounts',
      'a.mayDeleteForRefund',
      'a.createdAt',
      'w.confirmed',
      'w.pending',
      'w.negativeSince',
    )
  if (!row) return undefined
  const [locations, active] = await Promise.all([
    // Not pluck(): the camelCase mapper renames the column before pluck reads it.
    db('agentLocations').where({ agentUserId: userId }).orderBy('locationId').select('locationId'),
    db('accounts').where({ userId, status: 'active' }).count<{ count: string }[]>('* as count').first(),
  ])
  return {
    ...row,
    confirmed: BigInt(row.confirmed),
    pending: BigInt(row.pending),
    locationIds: locations.map((l: { locationId: number }) => l.locationId),
    activeAccounts: Number(active?.count ?? 0),
  }
}

async function replaceLocations(db: Db, userId: number, locationIds: number[]): Promise<void> {
  await db('agentLocations').where({ agentUserId: userId }).delete()
  if (locationIds.length > 0) await db('agentLocations').insert([...new Set(locationIds)].map((locationId) => ({ agentUserId: userId, locationId })))
}

/** Creates the agent's user (with wallet), profile and locations in one transaction. Throws `UserInputError` for a bad or taken username. */
export async function createAgent(db: Db, input: AgentProfileInput & { username: string; password: string; locale?: 'fa' | 'en' }): Promise<number> {
  return db.transaction(async (trx) => {
    const user = await createUser(trx, {
      username: input.username,
      password: input.password,
      role: 'agent',
      displayName: `${input.firstName} ${input.lastName}`,
      locale: input.locale,
    })
    await trx('agents').insert({
      userId: user.id,
      firstName: input.firstName,
      lastName: input.lastName,
      phone: input.phone,
      shopName: input.shopName,
      address: input.address,
      maxActiveAccounts: input.maxActiveAccounts,
      mayDeleteForRefund: input.mayDeleteForRefund,
    })
    await replaceLocations(trx, user.id, input.locationIds)
    return user.id
  })
}

/** Updates profile, limits and locations; a new password when given. Returns false when there is no such agent. */
export async function updateAgent(db: Db, userId: number, input: AgentProfileInput & { password?: string | null }): Promise<boolean> {
  const passwordHash = input.password ? await hashNewPassword(input.password) : null
  return db.transaction(async (trx) => {
    const updated = await trx('agents').where({ userId }).update({
      firstName: input.firstName,
      lastName: input.lastName,
      phone: input.phone,
      shopName: input.shopName,
      address: input.address,
      maxActiveAccounts: input.maxActiveAccounts,
      mayDeleteForRefund: input.mayDeleteForRefund,
      updatedAt: trx.fn.now(),
    })
    if (updated === 0) return false
    await replaceLocations(trx, userId, input.locationIds)
    const userPatch: Record<string, unknown> = { displayName: `${input.firstName} ${input.lastName}`, updatedAt: trx.fn.now() }
    if (passwordHash) userPatch.passwordHash = passwordHash
    await trx('users').where({ id: userId }).update(userPatch)
    // A new password ends every session of the agent.
    if (passwordHash) await trx('sessions').where({ userId }).delete()
    return true
  })
}

/** Disabling an agent also ends their sessions, so they are out at once. */
export async function setAgentStatus(db: Db, userId: number, status: 'active' | 'disabled'): Promise<boolean> {
  return db.transaction(async (trx) => {
    const updated = await trx('users').where({ id: userId, role: 'agent' }).update({ status, updatedAt: trx.fn.now() })
    if (updated > 0 && status === 'disabled') await trx('sessions').where({ userId }).delete()
    return updated > 0
  })
}

export interface LedgerRow {
  id: string
  type: string
  confirmedDelta: bigint
  pendingDelta: bigint
  confirmedAfter: bigint
  pendingAfter: bigint
  referenceType: string | null
  referenceId: string | null
  actorUsername: string | null
  note: string | null
  createdAt: Date
}

export async function listLedger(db: Db, userId: number, filter: { page?: number; pageSize?: number } = {}): Promise<{ rows: LedgerRow[]; hasMore: boolean }> {
  const pageSize = filter.pageSize ?? 50
  const page = Math.max(1, filter.page ?? 1)
  const rows = await db('ledgerEntries as e')
    .leftJoin('users as u', 'u.id', 'e.actorUserId')
    .where('e.walletUserId', userId)
    .orderBy('e.id', 'desc')
    .limit(pageSize + 1)
    .offset((page - 1) * pageSize)
    .select('e.id', 'e.type', 'e.confirmedDelta', 'e.pendingDelta', 'e.confirmedAfter', 'e.pendingAfter', 'e.referenceType', 'e.referenceId', 'u.username as actorUsername', 'e.note', 'e.createdAt')
  return {
    rows: rows.slice(0, pageSize).map((r) => ({
      ...r,
      confirmedDelta: BigInt(r.confirmedDelta),
      pendingDelta: BigInt(r.pendingDelta),
      confirmedAfter: BigInt(r.confirmedAfter),
      pendingAfter: BigInt(r.pendingAfter),
    })),
    hasMore: rows.length > pageSize,
  }
}
