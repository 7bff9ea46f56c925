import type { Db } from './knex.ts'
import type { PaymentMethodKind } from './models.ts'

/** Locations, plans and payment methods as the admin console edits them. */

// ---- locations -------------------------------------------------------------------------------------

export interface LocationRow {
  id: number
  code: string
  nameFa: string
  nameEn: string
  active: boolean
  panels: number
}

export async function listLocations(db: Db, options: { activeOnly?: boolean } = {}): Promise<LocationRow[]> {
  const q = db('locations as l')
    .leftJoin(db('panels').groupBy('locationId').select('locationId', db.raw('count(*)::int as n')).as('p'), 'p.locationId', 'l.id')
    .select('l.id', 'l.code', 'l.nameFa', 'l.nameEn', 'l.active', db.raw('coalesce(p.n, 0)::int as panels'))
    .orderBy('l.id')
  if (options.activeOnly) q.where('l.active', true)
  return q
}

export class CatalogConflictError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

const isUniqueViolation = (error: unknown) => (error as { code?: string } | null)?.code === '23505'

export interface LocationInput {
  code: string
  nameFa: string
  nameEn: string
  active: boolean
}

export async function createLocation(db: Db, input: LocationInput): Promise<number> {
  try {
    const [row] = await db('locations').insert(input).returning('id')
    return row.id
  } catch (error) {
    if (isUniqueViolation(error)) throw new CatalogConflictError('code', `Location code "${input.code}" is already used`)
    throw error
  }
}

export async function updateLocation(db: Db, id: number, input: LocationInput): Promise<boolean> {
  try {
    return (await db('locations').where({ id }).update(input)) > 0
  } catch (error) {
    if (isUniqueViolation(error)) throw new CatalogConflictError('code', `Location code "${input.code}" is already used`)
    throw error
  }
}

// ---- plans -----------------------------------------------------------------------------------------

export interface PlanRow {
  id: number
  nameFa: string
  nameEn: string
  days: number
  dataLimitBytes: bigint
  price: bigint
  agentPrice: bigint
  active: boolean
  locationIds: number[]
}

export interface PlanInput {
  nameFa: string
  nameEn: string
  days: number
  dataLimitBytes: bigint
  price: bigint
  agentPrice: bigint
  locationIds: number[]
}

export async function listPlans(db: Db): Promise<PlanRow[]> {
  const [plans, links] = await Promise.all([
    db('plans').orderBy([{ column: 'active', order: 'desc' }, { column: 'id' }]),
    db('planLocations').select('planId', 'locationId'),
  ])
  return plans.map((p) => ({
    id: p.id,
    nameFa: p.nameFa,
    nameEn: p.nameEn,
    days: p.days,
    dataLimitBytes: BigInt(p.dataLimitBytes),
    price: BigInt(p.price),
    agentPrice: BigInt(p.agentPrice),
    active: p.active,
    locationIds: links.filter((l) => l.planId === p.id).map((l) => l.locationId as number),
  }))
}

export async function createPlan(db: Db, input: PlanInput): Promise<number> {
  return db.transaction(async (trx) => {
    const { locationIds, ...plan } = input
    const [row] = await trx('plans')
      .insert({ ...plan, dataLimitBytes: plan.dataLimitBytes.toString(), price: plan.price.toString(), agentPrice: plan.agentPrice.toString() })
      .returning('id')
    if (locationIds.length > 0) await trx('planLocations').insert([...new Set(locationIds)].map((locationId) => ({ planId: row.id, locationId })))
    return row.id as number
  })
}

export async function updatePlan(db: Db, id: number, input: PlanInput): Promise<boolean> {
  return db.transaction(async (trx) => {
    const { locationIds, ...plan } = input
    const updated = await trx('plans')
      .where({ id })
      .update({
        ...plan,
        dataLimitBytes: plan.dataLimitBytes.toString(),
        price: plan.price.toString(),
        agentPrice: plan.agentPrice.toString(),
        updatedAt: trx.fn.now(),
      })
    if (updated === 0) return false
    await trx('planLocations').where({ planId: id }).delete()
    if (locationIds.length > 0) await trx('planLocations').insert([...new Set(locationIds)].map((locationId) => ({ planId: id, locationId })))
    return true
  })
}

export async function setPlanActive(db: Db, id: number, active: boolean): Promise<boolean> {
  return (await db('plans').where({ id }).update({ active, updatedAt: db.fn.now() })) > 0
}

// ---- payment methods -------------------------------------------------------------------------------

export interface PaymentMethodRow {
  id: number
  kind: PaymentMethodKind
  titleFa: string
  titleEn: string
  config: Record<string, string>
  dailyCountLimit: number | null
  dailyAmountLimit: bigint | null
  active: boolean
  todayCount: number
  todayAmount: bigint
}

export interface PaymentMethodInput {
  kind: PaymentMethodKind
  titleFa: string
  titleEn: string
  config: Record<string, string>
  dailyCountLimit: number | null
  dailyAmountLimit: bigint | null
  active: boolean
}

export async function listPaymentMethods(db: Db): Promise<PaymentMethodRow[]> {
  const rows = await db('paymentMethods as m')
    .leftJoin(
      db('payments')
        .whereIn('status', ['PENDING', 'APPROVED'])
        .where('createdAt', '>=', db.raw("date_trunc('day', now())"))
        .groupBy('methodId')
        .select('methodId', db.raw('count(*)::int as n'), db.raw('sum(amount)::text as total'))
        .as('t'),
      't.methodId',
      'm.id',
    )
    .select('m.*', db.raw('coalesce(t.n, 0)::int as "todayCount"'), db.raw(`coalesce(t.total, '0') as "todayAmount"`))
    .orderBy('m.id')
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    titleFa: r.titleFa,
    titleEn: r.titleEn,
    config: r.config ?? {},
    dailyCountLimit: r.dailyCountLimit,
    dailyAmountLimit: r.dailyAmountLimit === null ? null : BigInt(r.dailyAmountLimit),
    active: r.active,
    todayCount: r.todayCount,
    todayAmount: BigInt(r.todayAmount),
  }))
}

function methodRow(input: PaymentMethodInput) {
  return {
    ...input,
    config: JSON.stringify(input.config),
    dailyAmountLimit: input.dailyAmountLimit === null ? null : input.dailyAmountLimit.toString(),
  }
}

export async function createPaymentMethod(db: Db, input: PaymentMethodInput): Promise<number> {
  const [row] = await db('paymentMethods').insert(methodRow(input)).returning('id')
  return row.id
}

export async function updatePaymentMethod(db: Db, id: number, input: PaymentMethodInput): Promise<boolean> {
  return (
    (await db('paymentMethods')
      .where({ id })
      .update({ ...methodRow(input), updatedAt: db.fn.now() })) > 0
  )
}

export async function setPaymentMethodActive(db: Db, id: number, active: boolean): Promise<boolean> {
  return (await db('paymentMethods').where({ id }).update({ active, updatedAt: db.fn.now() })) > 0
}
