import { describe, expect, it } from 'vitest'
import { acceptDecision, hoursWaiting, outcomeOf, paymentFlow, reminderTimes } from './rules.ts'

const H = 3_600_000

describe('reminderTimes', () => {
  it('reminds at each offset after the start, in order, without repeats', () => {
    expect(reminderTimes(1_000, [6 * H, H, H], 72 * H)).toEqual([1_000 + H, 1_000 + 6 * H])
  })
  it('drops reminders that would come at or after expiry', () => {
    expect(reminderTimes(0, [H, 6 * H, 80 * H], 72 * H)).toEqual([H, 6 * H])
    expect(reminderTimes(0, [72 * H], 72 * H)).toEqual([])
  })
})

describe('outcomeOf', () => {
  it('maps the decision, and no decision to EXPIRED', () => {
    expect(outcomeOf({ decision: 'approve' })).toBe('APPROVED')
    expect(outcomeOf({ decision: 'reject' })).toBe('REJECTED')
    expect(outcomeOf(null)).toBe('EXPIRED')
  })
})

describe('acceptDecision', () => {
  const approve = { decision: 'approve' as const, adminId: 1, note: null }
  const reject = { decision: 'reject' as const, adminId: 2, note: 'fake' }
  it('keeps the first decision', () => {
    expect(acceptDecision(null, approve, false)).toBe(approve)
    expect(acceptDecision(approve, reject, false)).toBe(approve)
  })
  it('ignores decisions after the payment closed, and unknown decisions', () => {
    expect(acceptDecision(null, approve, true)).toBeNull()
    expect(acceptDecision(null, { ...approve, decision: 'maybe' as never }, false)).toBeNull()
  })
})

describe('hoursWaiting', () => {
  it('counts whole hours', () => {
    expect(hoursWaiting(0, 6 * H + 59_000)).toBe(6)
    expect(hoursWaiting(10, 0)).toBe(0)
  })
})

describe('paymentFlow', () => {
  const config = { receiptExpiryMs: 72 * H, gatewayWindowMs: H }
  it('a receipt is pending credit at once and waits for an admin until the receipt expiry', () => {
    for (const kind of ['CARD', 'SHEBA', 'CRYPTO']) {
      expect(paymentFlow(kind, config)).toEqual({ confirmedBy: 'admin', pendingCreditAtStart: true, askAdmins: true, adminMayDecide: true, expiryMs: 72 * H })
    }
  })
  it('a Zarinpal payment credits nothing before the gateway verifies it, asks no admin and expires after the gateway window', () => {
    expect(paymentFlow('ZARINPAL', config)).toEqual({ confirmedBy: 'gateway', pendingCreditAtStart: false, askAdmins: false, adminMayDecide: false, expiryMs: H })
  })
})
