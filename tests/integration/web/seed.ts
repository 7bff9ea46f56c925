import type { Db } from '#db/knex.ts'
import { addPanel } from '#db/panels.ts'

/** Rows the admin pages need, inserted directly (the code under test is the web app, not these helpers). */

export async function seedLocation(db: Db, code = `loc-${Math.random().toString(36).slice(2, 7)}`): Promise<number> {
  const [row] = await db('locations').insert({ code, nameFa: `مکان ${code}`, nameEn: `Place ${code}` }).returning('id')
  return row.id
}

export async function seedPlan(db: Db, overrides: Record<string, unknown> = {}): Promise<number> {
  const [row] = await db('plans')
    .insert({ nameFa: 'ماهانه', nameEn: 'Monthly', days: 30, dataLimitBytes: String(50 * 1024 ** 3), price: '150000', agentPrice: '120000', ...overrides })
    .returning('id')
  return row.id
}

/** A panel at an address nothing listens on, so panel calls fail fast. */
export async function seedPanel(db: Db, appSecret: string, locationId: number, name = `panel-${Math.random().toString(36).slice(2, 7)}`): Promise<number> {
  const panel = await addPanel(db, appSecret, { name, type: 'marzban', baseUrl: 'http://127.0.0.1:9', username: 'root', password: 'panel-secret-pw', locationId })
  return panel.id
}

export async function seedAccount(
  db: Db,
  input: { userId: number; planId: number; panelId: number; locationId: number; price?: string; username?: string },
): Promise<{ orderId: number; accountId: number }> {
  const [order] = await db('orders')
    .insert({ userId: input.userId, planId: input.planId, locationId: input.locationId, price: input.price ?? '120000', status: 'delivered', deliveredAt: db.fn.now() })
    .returning('id')
  const [account] = await db('accounts')
    .insert({
      userId: input.userId,
      orderId: order.id,
      planId: input.planId,
      panelId: input.panelId,
      panelUsername: input.username ?? `u${order.id}x${Math.random().toString(36).slice(2, 6)}`,
      expiresAt: new Date(Date.now() + 20 * 86_400_000),
      dataLimitBytes: String(50 * 1024 ** 3),
      dataUsedBytes: String(5 * 1024 ** 3),
    })
    .returning('id')
  await db('orders').where({ id: order.id }).update({ accountId: account.id })
  return { orderId: order.id, accountId: account.id }
}

export async function seedPaymentMethod(db: Db): Promise<number> {
  const [row] = await db('paymentMethods').insert({ kind: 'CARD', titleFa: 'کارت', titleEn: 'Card', config: JSON.stringify({ cardNumber: '6037991234567890', holder: 'Ali' }) }).returning('id')
  return row.id
}

export async function seedPendingPayment(db: Db, input: { userId: number; methodId: number; amount?: string; receiptPath?: string | null; receiptMime?: string | null }): Promise<number> {
  const [row] = await db('payments')
    .insert({ userId: input.userId, methodId: input.methodId, amount: input.amount ?? '250000', receiptPath: input.receiptPath ?? null, receiptMime: input.receiptMime ?? null })
    .returning('id')
  await db('payments').where({ id: row.id }).update({ workflowId: `payment-${row.id}` })
  return row.id
}

export async function count(db: Db, table: string, where: Record<string, unknown> = {}): Promise<number> {
  const row = await db(table).where(where).count<{ count: string }[]>('* as count').first()
  return Number(row?.count ?? 0)
}
