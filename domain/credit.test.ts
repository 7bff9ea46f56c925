import { describe, expect, it } from 'vitest'
import { breaksCustomerFloor, decideDebit, decidePlacement, negativeTransition, spendableCredit, usableCredit } from './credit.ts'

const b = (confirmed: bigint, pending: bigint) => ({ confirmed, pending })

describe('credit rules', () => {
  it('usable credit is confirmed plus pending', () => {
    expect(usableCredit(b(-300n, 500n))).toBe(200n)
  })

  it('agents spend usable credit, customers and admins confirmed credit only', () => {
    expect(spendableCredit('agent', b(100n, 400n))).toBe(500n)
    expect(spendableCredit('customer', b(100n, 400n))).toBe(100n)
    expect(spendableCredit('admin', b(100n, 400n))).toBe(100n)
    expect(spendableCredit('agent', b(-900n, 400n))).toBe(0n)
  })

  it('an order is allowed when spendable credit covers it exactly', () => {
    expect(decideDebit('customer', b(100n, 0n), 100n)).toEqual({ ok: true })
    expect(decideDebit('agent', b(0n, 100n), 100n)).toEqual({ ok: true })
  })

  it('an order above spendable credit is refused with the amounts', () => {
    expect(decideDebit('customer', b(100n, 1000n), 101n)).toEqual({ ok: false, reason: 'INSUFFICIENT_CREDIT', required: 101n, available: 100n })
    expect(decideDebit('agent', b(0n, 100n), 101n)).toEqual({ ok: false, reason: 'INSUFFICIENT_CREDIT', required: 101n, available: 100n })
  })

  it('an agent already below zero cannot order anything, however cheap', () => {
    expect(decideDebit('agent', b(-1n, 0n), 1n)).toEqual({ ok: false, reason: 'NEGATIVE_CREDIT', usable: -1n })
  })

  it('placing an order counts the wallet orders placed and not yet debited', () => {
    expect(decidePlacement('agent', b(0n, 300n), 200n, 100n)).toEqual({ ok: true })
    expect(decidePlacement('agent', b(0n, 300n), 201n, 100n)).toEqual({ ok: false, reason: 'INSUFFICIENT_CREDIT', required: 100n, available: 99n })
    expect(decidePlacement('customer', b(100n, 500n), 100n, 1n)).toEqual({ ok: false, reason: 'INSUFFICIENT_CREDIT', required: 1n, available: 0n })
    // Reservations larger than the credit (the credit fell after they were placed) leave nothing, never less.
    expect(decidePlacement('agent', b(50n, 0n), 80n, 1n)).toEqual({ ok: false, reason: 'INSUFFICIENT_CREDIT', required: 1n, available: 0n })
    expect(decidePlacement('agent', b(-1n, 0n), 0n, 1n)).toEqual({ ok: false, reason: 'NEGATIVE_CREDIT', usable: -1n })
  })

  it('reports crossings of zero in both directions, and only crossings', () => {
    expect(negativeTransition(b(0n, 100n), b(0n, -1n))).toEqual({ wentNegative: true, backToNonNegative: false })
    expect(negativeTransition(b(-5n, 0n), b(0n, 0n))).toEqual({ wentNegative: false, backToNonNegative: true })
    expect(negativeTransition(b(-5n, 0n), b(-1n, 0n))).toEqual({ wentNegative: false, backToNonNegative: false })
    expect(negativeTransition(b(5n, 0n), b(0n, 0n))).toEqual({ wentNegative: false, backToNonNegative: false })
  })

  it('only non-agents have a floor at zero', () => {
    expect(breaksCustomerFloor('customer', b(-1n, 0n))).toBe(true)
    expect(breaksCustomerFloor('agent', b(-1n, 0n))).toBe(false)
    expect(breaksCustomerFloor('customer', b(0n, 0n))).toBe(false)
  })
})
