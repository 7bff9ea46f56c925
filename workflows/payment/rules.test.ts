import { describe, expect, it } from 'vitest'
import { acceptDecision, hoursWaiting, outcomeOf, paymentFlow, refuseDecision, reminderTimes, type DecisionState } from './rules.ts'

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

describe('refuseDecision', () => {
  const waiting: DecisionState = {
    paymentId: 7,
    confirmedBy: 'admin',
    decision: null,
    decidedAt: null,
    closed: false,
    status: { status: 'PENDING', decidedBy: null, decidedAt: null, expiresAt: '2026-01-04T00:00:00.000Z', note: 'payer note' },
  }
  it('lets the first decision on a waiting receipt through, also before the payment is loaded', () => {
    expect(refuseDecision(waiting)).toBeNull()
    expect(refuseDecision({ ...waiting, confirmedBy: undefined })).toBeNull()
  })
  it('refuses a second decision with the first one: how, by whom and when', () => {
    const taken = { ...waiting, decision: { decision: 'reject' as const, adminId: 3, note: 'fake' }, decidedAt: '2026-01-01T10:00:00.000Z' }
    expect(refuseDecision(taken)).toEqual({ reason: 'already_decided', paymentId: 7, decision: 'rejected', decidedBy: 3, decidedAt: '2026-01-01T10:00:00.000Z', note: 'fake' })
    expect(refuseDecision({ ...taken, decision: { decision: 'approve', adminId: 0, note: 'gateway ref 1' } })).toMatchObject({ decision: 'approved', decidedBy: null })
  })
  it('refuses any decision on a gateway payment, decided or not', () => {
    expect(refuseDecision({ ...waiting, confirmedBy: 'gateway' })).toEqual({ reason: 'paid_online', paymentId: 7 })
    expect(refuseDecision({ ...waiting, confirmedBy: 'gateway', closed: true, status: { ...waiting.status, status: 'APPROVED' } })).toEqual({ reason: 'paid_online', paymentId: 7 })
  })
  it('refuses a decision on a closed payment: expired, or decided before the workflow ran', () => {
    expect(refuseDecision({ ...waiting, closed: true })).toEqual({ reason: 'expired', paymentId: 7, expiredAt: '2026-01-04T00:00:00.000Z' })
    expect(refuseDecision({ ...waiting, closed: true, status: { ...waiting.status, status: 'APPROVED', decidedBy: 4 } })).toEqual({
      reason: 'already_decided',
      paymentId: 7,
      decision: 'approved',
      decidedBy: 4,
      decidedAt: null,
      note: 'payer note',
    })
  })
})
