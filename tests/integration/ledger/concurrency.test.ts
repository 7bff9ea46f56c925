import { performance } from 'node:perf_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adjustManual,
  approveCharge,
  checkLedger,
  debitOrder,
  getWallet,
  InsufficientCreditError,
  refundOrder,
  rejectCharge,
  submitPendingCharge,
  type LedgerResult,
} from '#db/ledger.ts'
import { createDb, type Db } from '#db/knex.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { makeUser } from './helpers.ts'

/**
 * Many connections hit one wallet at once. The pool is larger than usual so that dozens of transactions
 * really wait on the wallet's row lock at the same time, instead of queueing in the pool.
 */
const POOL = 25
const PRICE = 1_000n
const ATTEMPTS = 200
const AFFORDABLE = 100

let db: Db
let wide: Db
let drop: () => Promise<void>
let admin: number

beforeAll(async () => {
  const test = await createTestDatabase('ledger_race')
  db = test.db
  drop = test.drop
  wide = createDb(test.url, { pool: { min: 0, max: POOL } })
  admin = await makeUser(db, 'admin')
})
afterAll(async () => {
  await wide.destroy()
  await drop()
})

async function race(userId: number, label: string) {
  const started = performance.now()
  const settled = await Promise.allSettled(
    Array.from({ length: ATTEMPTS }, (_, i) =>
      debitOrder(wide, { userId, amount: PRICE, orderId: `${label}-${i}`, idempotencyKey: `order-${label}-${i}:debit` }),
    ),
  )
  const ms = Math.round(performance.now() - started)
  const succeeded = settled.filter((s) => s.status === 'fulfilled')
  const refused = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected')
  console.log(`ledger race (${label}): ${ATTEMPTS} parallel debits of ${PRICE}, ${succeeded.length} succeeded, ${refused.length} refused, ${ms} ms, pool ${POOL}`)
  return { succeeded, refused, ms }
}

describe(`${ATTEMPTS} parallel debits against a wallet that can afford exactly ${AFFORDABLE}`, () => {
  it('agent (paying from confirmed + pending): exactly 100 succeed and the balance is exact', async () => {
    const agent = await makeUser(db, 'agent')
    await adjustManual(db, { userId: agent, amount: PRICE * 60n, note: 'opening credit', actorUserId: admin, idempotencyKey: 'race-agent-open' })
    await submitPendingCharge(db, { userId: agent, amount: PRICE * 40n, paymentId: 1, idempotencyKey: 'race-agent-pending' })

    const { succeeded, refused } = await race(agent, 'agent')

    expect(succeeded).toHaveLength(AFFORDABLE)
    expect(refused).toHaveLength(ATTEMPTS - AFFORDABLE)
    for (const r of refused) expect(r.reason).toBeInstanceOf(InsufficientCreditError)
    const wallet = await getWallet(db, agent)
    expect(wallet).toMatchObject({ confirmed: -PRICE * 40n, pending: PRICE * 40n, usable: 0n, negativeSince: null })
    expect(await db('ledgerEntries').where({ walletUserId: agent, type: 'ORDER_DEBIT' }).count({ n: '*' })).toEqual([{ n: String(AFFORDABLE) }])
    expect(await checkLedger(db, agent)).toEqual({ ok: true, wallets: 1, problems: [] })
  })

  it('customer (paying from confirmed only, with pending credit on top): exactly 100 succeed and the balance is exact', async () => {
    const customer = await makeUser(db, 'customer')
    await adjustManual(db, { userId: customer, amount: PRICE * 100n, note: 'opening credit', actorUserId: admin, idempotencyKey: 'race-customer-open' })
    await submitPendingCharge(db, { userId: customer, amount: PRICE * 50n, paymentId: 2, idempotencyKey: 'race-customer-pending' })

    const { succeeded, refused } = await race(customer, 'customer')

    expect(succeeded).toHaveLength(AFFORDABLE)
    expect(refused).toHaveLength(ATTEMPTS - AFFORDABLE)
    for (const r of refused) expect(r.reason).toBeInstanceOf(InsufficientCreditError)
    const wallet = await getWallet(db, customer)
    expect(wallet).toMatchObject({ confirmed: 0n, pending: PRICE * 50n })
    // Each success saw a distinct balance: the row lock serialised them.
    const afters = (succeeded as PromiseFulfilledResult<LedgerResult>[]).map((s) => s.value.confirmed)
    expect(new Set(afters).size).toBe(AFFORDABLE)
    expect(await checkLedger(db, customer)).toEqual({ ok: true, wallets: 1, problems: [] })
  })
})

describe('the invariant under a storm of mixed operations', () => {
  it('after hundreds of concurrent charges, decisions, debits, refunds and repeated keys, balances equal the sum of entries', async () => {
    const agent = await makeUser(db, 'agent')
    const payments = 60
    for (let p = 0; p < payments; p++) {
      await submitPendingCharge(db, { userId: agent, amount: 500n + BigInt(p), paymentId: `storm-${p}`, idempotencyKey: `payment-storm-${p}:pending` })
    }
    const ops: (() => Promise<LedgerResult>)[] = []
    for (let p = 0; p < payments; p++) {
      const amount = 500n + BigInt(p)
      const input = { userId: agent, amount, paymentId: `storm-${p}`, actorUserId: admin }
      // Each decision is sent twice with the same key, as a retried activity would.
      const decide = p % 3 === 0 ? rejectCharge : approveCharge
      const key = `payment-storm-${p}:${p % 3 === 0 ? 'reject' : 'approve'}`
      ops.push(() => decide(wide, { ...input, idempotencyKey: key }), () => decide(wide, { ...input, idempotencyKey: key }))
    }
    for (let o = 0; o < 80; o++) {
      ops.push(() => debitOrder(wide, { userId: agent, amount: 300n, orderId: `storm-${o}`, idempotencyKey: `order-storm-${o}:debit` }))
      if (o % 4 === 0) {
        ops.push(() => refundOrder(wide, { userId: agent, amount: 100n, orderId: `storm-${o}`, idempotencyKey: `order-storm-${o}:refund` }))
      }
    }
    const settled = await Promise.allSettled(ops.map((op) => op()))

    const check = await checkLedger(db, agent)
    expect(check.problems).toEqual([])
    expect(check.ok).toBe(true)
    // Every pending charge was decided exactly once.
    expect((await getWallet(db, agent)).pending).toBe(0n)
    const decisions = await db('ledgerEntries').where({ walletUserId: agent }).whereIn('type', ['CHARGE_APPROVED', 'CHARGE_REJECTED']).count({ n: '*' })
    expect(decisions).toEqual([{ n: String(payments) }])
    const replays = settled.filter((s) => s.status === 'fulfilled' && s.value.replayed)
    expect(replays).toHaveLength(payments)
    // Failures are only credit refusals (a debit refused, or the refund of a debit that never happened).
    for (const s of settled) {
      if (s.status === 'rejected') expect(['INSUFFICIENT_CREDIT', 'NEGATIVE_CREDIT', 'REFUND_EXCEEDS_DEBIT']).toContain(s.reason.code)
    }
  })
})
