import type { Db } from './knex.ts'

/** Read models for the admin dashboard. */

export async function countPendingPayments(db: Db): Promise<number> {
  const row = await db('payments').where({ status: 'PENDING' }).count<{ count: string }[]>('* as count').first()
  return Number(row?.count ?? 0)
}
