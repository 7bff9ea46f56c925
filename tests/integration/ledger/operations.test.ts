import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  adjustManual,
  approveCharge,
  checkLedger,
  debitOrder,
  expireCharge,
  getWallet,
  IdempotencyConflictError,
  InsufficientCreditError,
  InsufficientPendingError,
  InvalidAmountError,
  InvalidLedgerInputError,
  LEDGER_ENTRY_TYPES,
  ledgerResultToJson,
  NegativeCreditError,
  refundOrder,
  RefundExceedsDebitError,
  rejectCharge,
  submitPendingCharge,
  WalletNotFoundError,
} from '#db/ledger.ts'
import type { Db } from '#db/knex.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { failure, makeUser } from './helpers.ts'

let db: Db
let drop: () => Promise<void>
let admin: number

beforeAll(async () => {
  ;({ db, drop } = await createTestDatabase('ledger_ops'))
  admin = await makeUser(db, 'admin')
})
afterAll(async () => {
  await drop()
})

async function entries(userId: number) {
  return db('ledgerEntries').where({ walletUserId: userId }).orderBy('id')
}

describe('charges', () => {
  it('a submitted receipt adds to pending and writes one entry with balances before and after', async () => {
    const agent = await makeUser(db, 'agent')
    const r = await submitPendingCharge(db, { userId: agent, amount: 500_000n, paymentId: 1, idempotencyKey: 'payment-1:pending' })
    expect(r).toMatchObject({ type: 'CHARGE_PENDING', userId: agent, confirmed: 0n, pending: 500_000n, usable: 500_000n, replayed: false })
    expect(r.wentNegative).toBe(false)
    expect(r.negativeSince).toBeNull()
    const [e] = await entries(agent)
    expect(e).toMatchObject({
      id: r.entryId,
      type: 'CHARGE_PENDING',
      confirmedDelta: '0',
      pendingDelta: '500000',
      confirmedBefore: '0',
      confirmedAfter: '0',
      pendingBefore: '0',
      pendingAfter: '500000',
      referenceType: 'payment',
      referenceId: '1',
      idempotencyKey: 'payment-1:pending',
    })
  })

  it('approval moves the amount from pending to confirmed and records who approved', async () => {
    const customer = await makeUser(db, 'customer')
    await submitPendingCharge(db, { userId: customer, amount: 300n, paymentId: 2, idempotencyKey: 'payment-2:pending' })
    const r = await approveCharge(db, { userId: customer, amount: 300n, paymentId: 2, idempotencyKey: 'payment-2:approve', actorUserId: admin })
    expect(r).toMatchObject({ type: 'CHARGE_APPROVED', confirmed: 300n, pending: 0n, usable: 300n })
    const last = (await entries(customer)).at(-1)
    expect(last).toMatchObject({ confirmedDelta: '300', pendingDelta: '-300', actorUserId: admin })
  })

  it('rejection removes the pending amount and keeps the note', async () => {
    const customer = await makeUser(db, 'customer')
    await submitPendingCharge(db, { userId: customer, amount: 300n, paymentId: 3, idempotencyKey: 'payment-3:pending' })
    const r = await rejectCharge(db, {
      userId: customer,
      amount: 300n,
      paymentId: 3,
      idempotencyKey: 'payment-3:reject',
      actorUserId: admin,
      note: 'receipt is unreadable',
    })
    expect(r).toMatchObject({ type: 'CHARGE_REJECTED', confirmed: 0n, pending: 0n, wentNegative: false })
    expect((await entries(customer)).at(-1)).toMatchObject({ note: 'receipt is unreadable', actorUserId: admin })
  })

  it('expiry removes the pending amount', async () => {
    const customer = await makeUser(db, 'customer')
    await submitPendingCharge(db, { userId: customer, amount: 40n, paymentId: 4, idempotencyKey: 'payment-4:pending' })
    const r = await expireCharge(db, { userId: customer, amount: 40n, paymentId: 4, idempotencyKey: 'payment-4:expire' })
    expect(r).toMatchObject({ type: 'CHARGE_EXPIRED', confirmed: 0n, pending: 0n })
  })

  it('refuses to approve, reject or expire more than is pending', async () => {
    const customer = await makeUser(db, 'customer')
    await submitPendingCharge(db, { userId: customer, amount: 100n, paymentId: 5, idempotencyKey: 'payment-5:pending' })
    for (const call of [
      () => approveCharge(db, { userId: customer, amount: 101n, paymentId: 5, idempotencyKey: 'payment-5:approve', actorUserId: admin }),
      () => rejectCharge(db, { userId: customer, amount: 101n, paymentId: 5, idempotencyKey: 'payment-5:reject', actorUserId: admin }),
      () => expireCharge(db, { userId: customer, amount: 101n, paymentId: 5, idempotencyKey: 'payment-5:expire' }),
    ]) {
      const error = await failure(call())
      expect(error).toBeInstanceOf(InsufficientPendingError)
      expect(error.code).toBe('INSUFFICIENT_PENDING')
      expect(error.message).toMatch(/charge of 101 .* only 100 pending/)
    }
    expect(await entries(customer)).toHaveLength(1)
  })
})

describe('agents and negative credit', () => {
  it('an agent sells on pending credit, and a rejection then pushes them negative and reports it', async () => {
    const agent = await makeUser(db, 'agent')
    await submitPendingCharge(db, { userId: agent, amount: 1000n, paymentId: 10, idempotencyKey: 'payment-10:pending' })
    const debit = await debitOrder(db, { userId: agent, amount: 800n, orderId: 10, idempotencyKey: 'order-10:debit' })
    expect(debit).toMatchObject({ confirmed: -800n, pending: 1000n, usable: 200n, wentNegative: false })

    const rejected = await rejectCharge(db, { userId: agent, amount: 1000n, paymentId: 10, idempotencyKey: 'payment-10:reject', actorUserId: admin })
    expect(rejected).toMatchObject({ confirmed: -800n, pending: 0n, usable: -800n, wentNegative: true, backToNonNegative: false })
    expect(rejected.negativeSince).toBeInstanceOf(Date)
    const wallet = await getWallet(db, agent)
    expect(wallet).toMatchObject({ usable: -800n, spendable: 0n, role: 'agent' })
    expect(wallet.negativeSince?.getTime()).toBe(rejected.negativeSince?.getTime())

    const blocked = await failure(debitOrder(db, { userId: agent, amount: 1n, orderId: 11, idempotencyKey: 'order-11:debit' }))
    expect(blocked).toBeInstanceOf(NegativeCreditError)
    expect(blocked.code).toBe('NEGATIVE_CREDIT')
    expect(blocked.message).toBe('New orders are blocked while your credit is negative (-800). Top up at least 801 to place this order of 1.')

    const partial = await adjustManual(db, { userId: agent, amount: 300n, note: 'cash received', actorUserId: admin, idempotencyKey: 'manual-a' })
    expect(partial).toMatchObject({ usable: -500n, wentNegative: false, backToNonNegative: false })
    expect(partial.negativeSince?.getTime()).toBe(rejected.negativeSince?.getTime())

    await submitPendingCharge(db, { userId: agent, amount: 500n, paymentId: 12, idempotencyKey: 'payment-12:pending' })
    const back = await approveCharge(db, { userId: agent, amount: 500n, paymentId: 12, idempotencyKey: 'payment-12:approve', actorUserId: admin })
    expect(back.usable).toBe(0n)
    expect((await getWallet(db, agent)).negativeSince).toBeNull()
    expect(await checkLedger(db, agent)).toEqual({ ok: true, wallets: 1, problems: [] })
  })

  it('the entry that brings usable credit back to zero or above reports backToNonNegative', async () => {
    const agent = await makeUser(db, 'agent')
    await submitPendingCharge(db, { userId: agent, amount: 100n, paymentId: 20, idempotencyKey: 'payment-20:pending' })
    await debitOrder(db, { userId: agent, amount: 100n, orderId: 20, idempotencyKey: 'order-20:debit' })
    await expireCharge(db, { userId: agent, amount: 100n, paymentId: 20, idempotencyKey: 'payment-20:expire' })
    const r = await refundOrder(db, { userId: agent, amount: 100n, orderId: 20, idempotencyKey: 'order-20:refund' })
    expect(r).toMatchObject({ usable: 0n, wentNegative: false, backToNonNegative: true, negativeSince: null })
  })

  it('an agent cannot start an order that costs more than their usable credit', async () => {
    const agent = await makeUser(db, 'agent')
    await submitPendingCharge(db, { userId: agent, amount: 150_000n, paymentId: 30, idempotencyKey: 'payment-30:pending' })
    const error = await failure(debitOrder(db, { userId: agent, amount: 200_000n, orderId: 30, idempotencyKey: 'order-30:debit' }))
    expect(error).toBeInstanceOf(InsufficientCreditError)
    expect(error).toMatchObject({ code: 'INSUFFICIENT_CREDIT', required: 200_000n, available: 150_000n })
    expect(error.message).toBe('Not enough credit: this costs 200,000 but only 150,000 is available.')
  })

  it('a manual adjustment may take an agent below zero and says so', async () => {
    const agent = await makeUser(db, 'agent')
    const r = await adjustManual(db, { userId: agent, amount: '-50', note: 'correcting a double approval', actorUserId: admin, idempotencyKey: 'manual-b' })
    expect(r).toMatchObject({ confirmed: -50n, usable: -50n, wentNegative: true })
  })
})

describe('customers', () => {
  it('a customer spends confirmed credit only, not pending', async () => {
    const customer = await makeUser(db, 'customer')
    await adjustManual(db, { userId: customer, amount: 100n, note: 'gift', actorUserId: admin, idempotencyKey: 'manual-c1' })
    await submitPendingCharge(db, { userId: customer, amount: 1000n, paymentId: 40, idempotencyKey: 'payment-40:pending' })
    const error = await failure(debitOrder(db, { userId: customer, amount: 150n, orderId: 40, idempotencyKey: 'order-40:debit' }))
    expect(error).toBeInstanceOf(InsufficientCreditError)
    expect(error).toMatchObject({ required: 150n, available: 100n })
    const ok = await debitOrder(db, { userId: customer, amount: 100n, orderId: 40, idempotencyKey: 'order-40:debit-2' })
    expect(ok).toMatchObject({ confirmed: 0n, pending: 1000n })
  })

  it('a manual adjustment cannot take a customer below zero', async () => {
    const customer = await makeUser(db, 'customer')
    await adjustManual(db, { userId: customer, amount: 70n, note: 'gift', actorUserId: admin, idempotencyKey: 'manual-c2' })
    const error = await failure(adjustManual(db, { userId: customer, amount: -71n, note: 'oops', actorUserId: admin, idempotencyKey: 'manual-c3' }))
    expect(error).toBeInstanceOf(InsufficientCreditError)
    expect(error.message).toContain('their confirmed credit is 70')
    expect((await getWallet(db, customer)).confirmed).toBe(70n)
  })
})

describe('refunds', () => {
  it('refunds of one order never add up to more than it cost', async () => {
    const customer = await makeUser(db, 'customer')
    await adjustManual(db, { userId: customer, amount: 1000n, note: 'top-up', actorUserId: admin, idempotencyKey: 'manual-r1' })
    await debitOrder(db, { userId: customer, amount: 600n, orderId: 50, idempotencyKey: 'order-50:debit' })
    await refundOrder(db, { userId: customer, amount: 400n, orderId: 50, idempotencyKey: 'order-50:refund-1' })
    const error = await failure(refundOrder(db, { userId: customer, amount: 201n, orderId: 50, idempotencyKey: 'order-50:refund-2' }))
    expect(error).toBeInstanceOf(RefundExceedsDebitError)
    expect(error.message).toBe('Cannot refund 201 for order 50: only 200 of what was paid for it is left to refund.')
    const never = await failure(refundOrder(db, { userId: customer, amount: 1n, orderId: 51, idempotencyKey: 'order-51:refund' }))
    expect(never).toBeInstanceOf(RefundExceedsDebitError)
    expect((await getWallet(db, customer)).confirmed).toBe(800n)
  })
})

describe('idempotency', () => {
  it('the same key again returns the first result and moves nothing', async () => {
    const customer = await makeUser(db, 'customer')
    await adjustManual(db, { userId: customer, amount: 500n, note: 'top-up', actorUserId: admin, idempotencyKey: 'manual-i1' })
    const first = await debitOrder(db, { userId: customer, amount: 200n, orderId: 60, idempotencyKey: 'order-60:debit' })
    const again = await debitOrder(db, { userId: customer, amount: '200', orderId: '60', idempotencyKey: 'order-60:debit' })
    expect(again).toEqual({ ...first, replayed: true })
    expect((await getWallet(db, customer)).confirmed).toBe(300n)
    expect(await entries(customer)).toHaveLength(2)
  })

  it('a replay succeeds even when the same call would now be refused', async () => {
    const customer = await makeUser(db, 'customer')
    await adjustManual(db, { userId: customer, amount: 200n, note: 'top-up', actorUserId: admin, idempotencyKey: 'manual-i2' })
    await debitOrder(db, { userId: customer, amount: 200n, orderId: 61, idempotencyKey: 'order-61:debit' })
    const again = await debitOrder(db, { userId: customer, amount: 200n, orderId: 61, idempotencyKey: 'order-61:debit' })
    expect(again).toMatchObject({ replayed: true, confirmed: 0n })
  })

  it('a replay reports the first result’s negative transition and negativeSince', async () => {
    const agent = await makeUser(db, 'agent')
    await submitPendingCharge(db, { userId: agent, amount: 100n, paymentId: 62, idempotencyKey: 'payment-62:pending' })
    await debitOrder(db, { userId: agent, amount: 100n, orderId: 62, idempotencyKey: 'order-62:debit' })
    const first = await rejectCharge(db, { userId: agent, amount: 100n, paymentId: 62, idempotencyKey: 'payment-62:reject', actorUserId: admin })
    await adjustManual(db, { userId: agent, amount: 100n, note: 'paid in cash', actorUserId: admin, idempotencyKey: 'manual-i3' })
    const again = await rejectCharge(db, { userId: agent, amount: 100n, paymentId: 62, idempotencyKey: 'payment-62:reject', actorUserId: admin })
    expect(first.wentNegative).toBe(true)
    expect(again).toEqual({ ...first, replayed: true })
  })

  it('the same key with different parameters is a conflict, not a replay', async () => {
    const customer = await makeUser(db, 'customer')
    const other = await makeUser(db, 'customer')
    await adjustManual(db, { userId: customer, amount: 500n, note: 'top-up', actorUserId: admin, idempotencyKey: 'manual-i4' })
    await debitOrder(db, { userId: customer, amount: 200n, orderId: 63, idempotencyKey: 'order-63:debit' })
    const cases = [
      () => debitOrder(db, { userId: customer, amount: 201n, orderId: 63, idempotencyKey: 'order-63:debit' }),
      () => debitOrder(db, { userId: customer, amount: 200n, orderId: 64, idempotencyKey: 'order-63:debit' }),
      () => refundOrder(db, { userId: customer, amount: 200n, orderId: 63, idempotencyKey: 'order-63:debit' }),
      () => debitOrder(db, { userId: other, amount: 200n, orderId: 63, idempotencyKey: 'order-63:debit' }),
    ]
    for (const call of cases) {
      const error = await failure(call())
      expect(error).toBeInstanceOf(IdempotencyConflictError)
      expect(error.code).toBe('IDEMPOTENCY_CONFLICT')
      expect(error.message).toContain(`"order-63:debit" was already used for ORDER_DEBIT of 200 on the wallet of user ${customer} (order 63)`)
    }
    expect((await getWallet(db, customer)).confirmed).toBe(300n)
    expect((await getWallet(db, other)).confirmed).toBe(0n)
  })

  it('concurrent calls with the same key move money once; all of them get the same entry', async () => {
    const agent = await makeUser(db, 'agent')
    const results = await Promise.all(
      Array.from({ length: 20 }, () => submitPendingCharge(db, { userId: agent, amount: 70n, paymentId: 65, idempotencyKey: 'payment-65:pending' })),
    )
    expect(results.filter((r) => !r.replayed)).toHaveLength(1)
    expect(new Set(results.map((r) => r.entryId)).size).toBe(1)
    expect((await getWallet(db, agent)).pending).toBe(70n)
    expect(await entries(agent)).toHaveLength(1)
  })

  it('a key raced onto two different wallets lands once; the loser gets a conflict', async () => {
    const a = await makeUser(db, 'agent')
    const b = await makeUser(db, 'agent')
    const settled = await Promise.allSettled([
      submitPendingCharge(db, { userId: a, amount: 5n, paymentId: 66, idempotencyKey: 'payment-66:pending' }),
      submitPendingCharge(db, { userId: b, amount: 5n, paymentId: 66, idempotencyKey: 'payment-66:pending' }),
    ])
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1)
    const rejected = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult
    expect(rejected.reason).toBeInstanceOf(IdempotencyConflictError)
    const total = (await getWallet(db, a)).pending + (await getWallet(db, b)).pending
    expect(total).toBe(5n)
  })
})

describe('bad input', () => {
  it('refuses amounts that are not positive whole numbers', async () => {
    const customer = await makeUser(db, 'customer')
    for (const amount of [0n, -5n, 1.5, 'abc', '10.00', Number.NaN]) {
      const error = await failure(submitPendingCharge(db, { userId: customer, amount, paymentId: 70, idempotencyKey: `bad-${String(amount)}` }))
      expect(error).toBeInstanceOf(InvalidAmountError)
      expect(error.code).toBe('INVALID_AMOUNT')
    }
    const zero = await failure(adjustManual(db, { userId: customer, amount: 0n, note: 'x', actorUserId: admin, idempotencyKey: 'bad-zero' }))
    expect(zero.message).toBe('a manual adjustment must not be zero')
  })

  it('refuses a manual adjustment without a note, and calls without a key', async () => {
    const customer = await makeUser(db, 'customer')
    const noNote = await failure(adjustManual(db, { userId: customer, amount: 5n, note: '  ', actorUserId: admin, idempotencyKey: 'k-note' }))
    expect(noNote).toBeInstanceOf(InvalidLedgerInputError)
    expect(noNote.message).toBe('A manual adjustment needs a note saying why')
    const nul = await failure(adjustManual(db, { userId: customer, amount: 5n, note: 'a\u0000b', actorUserId: admin, idempotencyKey: 'k-nul' }))
    expect(nul).toMatchObject({ code: 'INVALID_LEDGER_INPUT', field: 'note', message: expect.stringMatching(/^The note must not contain control characters/) })
    expect(await db('ledgerEntries').where({ idempotencyKey: 'k-nul' })).toEqual([])
    const noKey = await failure(debitOrder(db, { userId: customer, amount: 5n, orderId: 1, idempotencyKey: '' }))
    expect(noKey).toMatchObject({ code: 'INVALID_LEDGER_INPUT', field: 'idempotencyKey' })
  })

  it('an unknown user has no wallet', async () => {
    const error = await failure(submitPendingCharge(db, { userId: 999_999, amount: 5n, paymentId: 1, idempotencyKey: 'nobody' }))
    expect(error).toBeInstanceOf(WalletNotFoundError)
    expect(error.code).toBe('WALLET_NOT_FOUND')
    expect(await failure(getWallet(db, 999_999))).toBeInstanceOf(WalletNotFoundError)
  })
})

describe('the ledger stays consistent', () => {
  it('every entry type is accepted by the database', async () => {
    const rows = await db.raw(`select pg_get_constraintdef(oid) as def from pg_constraint where conname = 'ledger_entries_type_check'`)
    for (const type of LEDGER_ENTRY_TYPES) expect(rows.rows[0].def).toContain(`'${type}'`)
  })

  it('after all of the above, every wallet equals the sum of its entries', async () => {
    const check = await checkLedger(db)
    expect(check.problems).toEqual([])
    expect(check.ok).toBe(true)
    expect(check.wallets).toBeGreaterThan(10)
  })

  it('results convert to JSON-safe data for activity results', async () => {
    const customer = await makeUser(db, 'customer')
    const r = await submitPendingCharge(db, { userId: customer, amount: '9007199254740993', paymentId: 80, idempotencyKey: 'payment-80:pending' })
    const json = ledgerResultToJson(r)
    expect(JSON.parse(JSON.stringify(json))).toMatchObject({ pending: '9007199254740993', usable: '9007199254740993', negativeSince: null })
  })
})
