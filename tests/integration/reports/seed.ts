import type { Db } from '#db/knex.ts'
import { adjustManual, approveCharge, debitOrder, refundOrder, rejectCharge, submitPendingCharge } from '#db/ledger.ts'
import { createUser } from '#db/users.ts'

export interface SeededReportData {
  adminId: number
  agentIds: [number, number]
  customerId: number
  /** Ids of rows created inside the report window. */
  orderIds: number[]
  paymentIds: number[]
  accountIds: number[]
  /** A row of each kind dated 2020, outside any window the tests ask for. */
  oldOrderId: number
  oldPaymentId: number
  oldAccountId: number
}

const GB = 1024 ** 3

/**
 * A small business with every kind of row the reports read. Money moves only through db/ledger.ts,
 * so the ledger, wallets and balances are consistent; orders, payments and accounts are inserted as
 * the workflows would leave them. A few rows are back-dated to 2020 to prove the date window filters.
 */
export async function seedReportData(db: Db): Promise<SeededReportData> {
  const admin = await createUser(db, { username: 'boss', role: 'admin' })
  const agentA = await createUser(db, { username: 'agent_ali', role: 'agent', locale: 'fa' })
  const agentB = await createUser(db, { username: 'agent_bita', role: 'agent' })
  const customer = await createUser(db, { username: 'cust_sara', role: 'customer', locale: 'en' })
  await db('agents').insert([
    { userId: agentA.id, firstName: 'علی', lastName: 'رضایی', shopName: 'فروشگاه علی', phone: '09120000001' },
    { userId: agentB.id, firstName: 'Bita', lastName: 'Karimi', shopName: null, phone: null },
  ])
  const [location] = await db('locations').insert({ code: 'de', nameFa: 'آلمان', nameEn: 'Germany' }).returning('*')
  const [plan] = await db('plans')
    .insert({ nameFa: 'ماهانه ۵۰ گیگ', nameEn: 'Monthly 50 GB', days: 30, dataLimitBytes: String(50 * GB), price: 250_000, agentPrice: 200_000 })
    .returning('*')
  const [panel] = await db('panels')
    .insert({ name: 'de-1', type: 'marzban', baseUrl: 'https://de1.example.test', credentialsEncrypted: 'x', locationId: location.id })
    .returning('*')
  const [card] = await db('paymentMethods').insert({ kind: 'CARD', titleFa: 'کارت ملت', titleEn: 'Mellat card' }).returning('*')
  const [gateway] = await db('paymentMethods').insert({ kind: 'ZARINPAL', titleFa: 'زرین‌پال', titleEn: 'Zarinpal' }).returning('*')

  const paymentIds: number[] = []
  const orderIds: number[] = []
  const accountIds: number[] = []

  async function payment(userId: number, methodId: number, amount: number, status: 'APPROVED' | 'REJECTED' | 'PENDING') {
    const [p] = await db('payments').insert({ userId, methodId, amount, status: 'PENDING' }).returning('*')
    paymentIds.push(p.id)
    await submitPendingCharge(db, { userId, amount, paymentId: p.id, idempotencyKey: `payment-${p.id}:pending` })
    if (status === 'APPROVED') await approveCharge(db, { userId, amount, paymentId: p.id, idempotencyKey: `payment-${p.id}:approve`, actorUserId: admin.id })
    if (status === 'REJECTED') await rejectCharge(db, { userId, amount, paymentId: p.id, idempotencyKey: `payment-${p.id}:reject`, actorUserId: admin.id, note: 'blurry receipt' })
    if (status !== 'PENDING') await db('payments').where({ id: p.id }).update({ status, decidedBy: admin.id, decidedAt: new Date() })
    return p.id as number
  }

  async function order(userId: number, price: number, usedGb: number, panelUsername: string) {
    const [o] = await db('orders').insert({ userId, planId: plan.id, locationId: location.id, price, status: 'provisioning' }).returning('*')
    orderIds.push(o.id)
    await debitOrder(db, { userId, amount: price, orderId: o.id, idempotencyKey: `order-${o.id}:debit` })
    const [a] = await db('accounts')
      .insert({
        userId,
        orderId: o.id,
        planId: plan.id,
        panelId: panel.id,
        panelUsername,
        expiresAt: new Date(Date.now() + 30 * 86_400_000),
        dataLimitBytes: String(50 * GB),
        dataUsedBytes: String(usedGb * GB),
      })
      .returning('*')
    accountIds.push(a.id)
    await db('orders').where({ id: o.id }).update({ status: 'delivered', accountId: a.id, deliveredAt: new Date(), workflowId: `order-${o.id}` })
    return { orderId: o.id as number, accountId: a.id as number }
  }

  await payment(agentA.id, card.id, 1_000_000, 'APPROVED')
  await order(agentA.id, 200_000, 10, 'ali_1')
  const refunded = await order(agentA.id, 200_000, 5, 'ali_2')
  await order(agentA.id, 200_000, 0, 'ali_3')
  await refundOrder(db, { userId: agentA.id, amount: 100_000, orderId: refunded.orderId, idempotencyKey: `refund-${refunded.accountId}:refund`, actorUserId: admin.id })
  await db('orders').where({ id: refunded.orderId }).update({ status: 'refunded' })
  await db('accounts').where({ id: refunded.accountId }).update({ status: 'deleted', deletedAt: new Date() })

  // Agent B sells on pending credit, then the receipt is rejected: the agent goes negative.
  const pendingB = await payment(agentB.id, card.id, 500_000, 'PENDING')
  await order(agentB.id, 200_000, 1.5, 'bita_1')
  await rejectCharge(db, { userId: agentB.id, amount: 500_000, paymentId: pendingB, idempotencyKey: `payment-${pendingB}:reject`, actorUserId: admin.id, note: 'no such transfer' })
  await db('payments').where({ id: pendingB }).update({ status: 'REJECTED', decidedBy: admin.id, decidedAt: new Date() })
  await adjustManual(db, { userId: agentB.id, amount: 50_000, note: 'goodwill', actorUserId: admin.id, idempotencyKey: 'manual-bita-1' })

  await payment(customer.id, gateway.id, 300_000, 'APPROVED')
  await order(customer.id, 250_000, 49, 'sara_1')
  // A failed order with no account and no ledger movement.
  const [failed] = await db('orders').insert({ userId: customer.id, planId: plan.id, price: 250_000, status: 'failed', failureReason: 'no healthy panel' }).returning('*')
  orderIds.push(failed.id)

  // Back-dated rows (no ledger entries: the ledger is append-only and always "now").
  const old = new Date('2020-06-01T10:00:00Z')
  const [oldOrder] = await db('orders').insert({ userId: customer.id, planId: plan.id, price: 999, status: 'cancelled', createdAt: old }).returning('*')
  const [oldPayment] = await db('payments').insert({ userId: customer.id, methodId: card.id, amount: 999, status: 'EXPIRED', createdAt: old }).returning('*')
  const [oldOrder2] = await db('orders').insert({ userId: customer.id, planId: plan.id, price: 999, status: 'delivered', createdAt: old }).returning('*')
  const [oldAccount] = await db('accounts')
    .insert({ userId: customer.id, orderId: oldOrder2.id, planId: plan.id, panelId: panel.id, panelUsername: 'old_1', createdAt: old, status: 'expired' })
    .returning('*')

  return {
    adminId: admin.id,
    agentIds: [agentA.id, agentB.id],
    customerId: customer.id,
    orderIds,
    paymentIds,
    accountIds,
    oldOrderId: oldOrder.id,
    oldPaymentId: oldPayment.id,
    oldAccountId: oldAccount.id,
  }
}
