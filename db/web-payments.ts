import type { Db } from './knex.ts'
import type { PaymentMethodKind, PaymentStatus, Role } from './models.ts'

/** The admin payments queue: receipts waiting for a decision and the latest decisions. */

export interface QueuePayment {
  id: number
  userId: number
  payerUsername: string
  payerDisplayName: string | null
  payerRole: Role
  methodKind: PaymentMethodKind
  methodTitleFa: string
  methodTitleEn: string
  orderId: number | null
  amount: bigint
  status: PaymentStatus
  receiptMime: string | null
  hasReceipt: boolean
  note: string | null
  createdAt: Date
  decidedAt: Date | null
  decidedByUsername: string | null
}

function baseQuery(db: Db) {
  return db('payments as p')
    .join('users as u', 'u.id', 'p.userId')
    .join('paymentMethods as m', 'm.id', 'p.methodId')
    .leftJoin('users as d', 'd.id', 'p.decidedBy')
    .select(
      'p.id',
      'p.userId',
      'u.username as payerUsername',
      'u.displayName as payerDisplayName',
      'u.role as payerRole',
      'm.kind as methodKind',
      'm.titleFa as methodTitleFa',
      'm.titleEn as methodTitleEn',
      'p.orderId',
      'p.amount',
      'p.status',
      'p.receiptMime',
      'p.receiptPath',
      'p.note',
      'p.createdAt',
      'p.decidedAt',
      'd.username as decidedByUsername',
    )
}

function toQueuePayment(row: Record<string, unknown>): QueuePayment {
  const { receiptPath, amount, ...rest } = row
  return { ...(rest as Omit<QueuePayment, 'amount' | 'hasReceipt'>), amount: BigInt(amount as string), hasReceipt: Boolean(receiptPath) }
}

/**
 * Pending payments waiting for an admin, oldest first (the ones closest to expiring on top). Online (gateway)
 * payments are not among them: the gateway confirms those.
 */
export async function listPendingPayments(db: Db, limit = 100): Promise<QueuePayment[]> {
  const rows = await baseQuery(db).where('p.status', 'PENDING').whereNot('m.kind', 'ZARINPAL').orderBy('p.createdAt', 'asc').limit(limit)
  return rows.map(toQueuePayment)
}

export async function listDecidedPayments(db: Db, limit = 20): Promise<QueuePayment[]> {
  const rows = await baseQuery(db).whereNot('p.status', 'PENDING').orderBy([{ column: 'p.updatedAt', order: 'desc' }, { column: 'p.id', order: 'desc' }]).limit(limit)
  return rows.map(toQueuePayment)
}

export async function getQueuePayment(db: Db, id: number): Promise<QueuePayment | undefined> {
  const row = await baseQuery(db).where('p.id', id).first()
  return row ? toQueuePayment(row) : undefined
}

/** Where a payment's receipt file is and whose it is, for the receipt download route. */
export async function getReceiptRef(db: Db, paymentId: number): Promise<{ userId: number; receiptPath: string; receiptMime: string | null } | undefined> {
  const row = await db('payments').where({ id: paymentId }).whereNotNull('receiptPath').first('userId', 'receiptPath', 'receiptMime')
  return row
}
