import { describe, expect, it } from 'vitest'
import { panelWaitDelay, refundInputProblem, refundNote, refundSteps } from './rules.ts'

describe('refundSteps', () => {
  it('removes the account, then pays each order its share', () => {
    expect(refundSteps({ alreadyDeleted: false, amount: '150', allocations: [{ orderId: 9, amount: '100' }, { orderId: 4, amount: '50' }] })).toEqual({
      removeFromPanel: true,
      payments: [{ orderId: 9, amount: '100' }, { orderId: 4, amount: '50' }],
    })
  })
  it('still removes an account that is worth nothing any more, and pays nothing', () => {
    expect(refundSteps({ alreadyDeleted: false, amount: '0', allocations: [] })).toEqual({ removeFromPanel: true, payments: [] })
  })
  it('does nothing for an account that was already deleted', () => {
    expect(refundSteps({ alreadyDeleted: true, amount: '100', allocations: [{ orderId: 1, amount: '100' }] })).toEqual({ removeFromPanel: false, payments: [] })
  })
})

describe('panelWaitDelay', () => {
  it('backs off to ten minutes and stays there', () => {
    expect(panelWaitDelay(1)).toBe(10_000)
    expect(panelWaitDelay(7)).toBe(600_000)
    expect(panelWaitDelay(50)).toBe(600_000)
  })
})

describe('refundInputProblem', () => {
  it('passes a plain reason and refuses one the ledger could not store, before the panel is touched', () => {
    expect(refundInputProblem({ accountId: 1, requestedBy: 2, reason: 'no longer needed' })).toBeNull()
    expect(refundInputProblem({ accountId: 1, requestedBy: 2, reason: 'a\u0000b' })).toMatch(/control characters/)
    expect(refundInputProblem({ accountId: 1, requestedBy: 2, reason: '  ' })).toMatch(/empty/)
    expect(refundInputProblem({ accountId: 2_147_483_648, requestedBy: 2, reason: 'x' })).toMatch(/not a row id/)
    expect(refundInputProblem({ accountId: 1, requestedBy: 1.5, reason: 'x' })).toMatch(/not a row id/)
  })
})

describe('refundNote', () => {
  it('is storable whatever the reason, and at most 300 characters', () => {
    expect(refundNote('u1', 'a\u0000b')).toBe('account u1 deleted: a\ufffdb')
    expect(refundNote('u1', 'x'.repeat(1000))).toHaveLength(300)
    expect(refundNote('u1', 'گران است')).toBe('account u1 deleted: گران است')
  })
})
