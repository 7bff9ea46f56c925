import { describe, expect, it } from 'vitest'
import { panelWaitDelay, refundSteps } from './rules.ts'

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
