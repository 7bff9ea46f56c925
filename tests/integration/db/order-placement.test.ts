import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '#db/knex.ts'
import { adjustManual, checkLedger, debitOrder } from '#db/ledger.ts'
import { OrderRefusedError, placeOrder, type PlaceOrderInput } from '#db/orders.ts'
import { createUser } from '#db/users.ts'
import { createTestDatabase } from '#tests/setup/database.ts'

/**
 * Placing orders (the service the web app, the bot and the API share) refuses what the ledger will refuse: under the
 * buyer's wallet lock, wallet orders placed and not yet debited are spoken for, so parallel placements never promise
 * more credit than the wallet holds. The workflows are not run here: a client that only records the starts.
 */
let db: Db
let drop: () => Promise<void>
let adminId: number
let planId: number
let locationId: number
const started: string[] = []
const recordingClient = {
  workflow: {
    start: async (_type: string, options: { workflowId: string }) => {
      started.push(options.workflowId)
      return { workflowId: options.workflowId }
    },
  },
} as unknown as Client

beforeAll(async () => {
  ;({ db, drop } = await createTestDatabase('order_placement'))
  adminId = (await createUser(db, { username: 'boss', password: 'long enough password', role: 'admin' })).id
  const [location] = await db('locations').insert({ code: 'de', nameFa: 'آلمان', nameEn: 'Germany' }).returning('id')
  locationId = location.id
  const [plan] = await db('plans').insert({ nameFa: 'یک ماهه', nameEn: 'One month', days: 30, dataLimitBytes: '1000', price: '150000', agentPrice: '120000' }).returning('id')
  planId = plan.id
  await db('planLocations').insert({ planId, locationId })
})
afterAll(async () => {
  await drop()
})

let users = 0
async function buyer(role: 'customer' | 'agent', credit: bigint, agent: { maxActiveAccounts?: number } = {}): Promise<number> {
  const user = await createUser(db, { username: `${role}${++users}`, password: 'long enough password', role })
  if (role === 'agent') await db('agents').insert({ userId: user.id, firstName: 'Test', lastName: 'Agent', maxActiveAccounts: agent.maxActiveAccounts ?? null })
  if (credit !== 0n) await adjustManual(db, { userId: user.id, amount: credit, note: 'test credit', actorUserId: adminId, idempotencyKey: `credit:${user.id}` })
  return user.id
}

async function placeMany(userId: number, n: number, extra: Partial<PlaceOrderInput> = {}) {
  const settled = await Promise.allSettled(Array.from({ length: n }, () => placeOrder(db, recordingClient, { userId, planId, locationId, ...extra })))
  const refusals = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []))
  for (const r of refusals) expect(r).toBeInstanceOf(OrderRefusedError)
  return { placed: settled.filter((s) => s.status === 'fulfilled').length, refusals: refusals as OrderRefusedError[] }
}

describe('placing orders on credit', () => {
  it('twelve parallel wallet orders on credit for three: three are placed, nine refused with what is left to spend', async () => {
    const userId = await buyer('customer', 450_000n)
    const { placed, refusals } = await placeMany(userId, 12)
    expect(placed).toBe(3)
    expect(refusals.map((r) => [r.code, r.facts.available])).toEqual(Array.from({ length: 9 }, () => ['INSUFFICIENT_CREDIT', 0n]))
    expect(await db('orders').where({ userId })).toHaveLength(3)

    // Paying by receipt reserves nothing and is not refused.
    const receipt = await placeOrder(db, recordingClient, { userId, planId, locationId, payMethod: 'receipt' })
    expect(receipt.created).toBe(true)
    expect(started).toContain(`order-${receipt.order.id}`)
  })

  it('an order already debited is counted once, in the balance, not again as spoken for', async () => {
    const agentId = await buyer('agent', 240_000n)
    const first = await placeOrder(db, recordingClient, { userId: agentId, planId, locationId })
    // The workflow has debited it but not yet recorded its next step: the row still says pending.
    await debitOrder(db, { userId: agentId, amount: first.order.price, orderId: first.order.id, idempotencyKey: `order-${first.order.id}:debit` })
    expect((await db('orders').where({ id: first.order.id }).first()).status).toBe('pending')

    const second = await placeOrder(db, recordingClient, { userId: agentId, planId, locationId })
    expect(second.created).toBe(true)
    const third = await placeOrder(db, recordingClient, { userId: agentId, planId, locationId }).catch((e: unknown) => e)
    expect(third).toMatchObject({ code: 'INSUFFICIENT_CREDIT', facts: { available: 0n } })
    expect(await checkLedger(db, agentId)).toMatchObject({ ok: true })
  })

  it('an order that ended (failed, cancelled) frees what it had spoken for', async () => {
    const userId = await buyer('customer', 150_000n)
    const first = await placeOrder(db, recordingClient, { userId, planId, locationId })
    await expect(placeOrder(db, recordingClient, { userId, planId, locationId })).rejects.toMatchObject({ code: 'INSUFFICIENT_CREDIT' })
    await db('orders').where({ id: first.order.id }).update({ status: 'failed' })
    expect((await placeOrder(db, recordingClient, { userId, planId, locationId })).created).toBe(true)
  })

  it('an agent at the account limit is refused under parallel placements too', async () => {
    const agentId = await buyer('agent', 0n, { maxActiveAccounts: 2 })
    const { placed, refusals } = await placeMany(agentId, 20, { payMethod: 'receipt' })
    expect(placed).toBe(2)
    expect(refusals.map((r) => r.code)).toEqual(Array.from({ length: 18 }, () => 'MAX_ACCOUNTS_REACHED'))
  })

  it('a repeated idempotency key returns the first order only when everything it asked for is the same', async () => {
    const userId = await buyer('customer', 1_000_000n)
    const input = { userId, planId, locationId, idempotencyKey: 'web:same', requestedUsername: 'sara', note: 'first line\nsecond line' }
    const first = await placeOrder(db, recordingClient, input)
    const again = await placeOrder(db, recordingClient, input)
    expect(again).toMatchObject({ created: false, order: { id: first.order.id } })
    for (const change of [{ requestedUsername: 'reza' }, { requestedUsername: null }, { note: 'first line' }, { payMethod: 'receipt' as const }]) {
      const error = await placeOrder(db, recordingClient, { ...input, ...change }).catch((e: unknown) => e)
      expect(error, JSON.stringify(change)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', facts: { orderId: first.order.id } })
    }
    expect(await db('orders').where({ userId })).toHaveLength(1)
  })
})
