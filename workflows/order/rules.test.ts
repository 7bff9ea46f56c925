import { describe, expect, it } from 'vitest'
import { afterPaymentOutcome, afterProvisionFailure, backoffDelay, compensationPlan, formatDuration, orderRowStatus, refuseCancel, strayPanels } from './rules.ts'

const retryable = { type: 'PANEL_UNREACHABLE', message: 'connection refused', nonRetryable: false }
const MIN = 60_000

describe('backoffDelay', () => {
  it('doubles from 5 s and stops growing at one minute', () => {
    expect([1, 2, 3, 4, 5, 6, 20].map((n) => backoffDelay(n))).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000])
  })
})

describe('afterProvisionFailure', () => {
  it('retries a retryable error after the backoff while the deadline is ahead', () => {
    expect(afterProvisionFailure({ now: 0, deadline: 30 * MIN, attempt: 2, failure: retryable, deadlineMs: 30 * MIN })).toEqual({
      action: 'retry',
      waitMs: 10_000,
    })
  })
  it('never sleeps past the deadline', () => {
    const next = afterProvisionFailure({ now: 30 * MIN - 3_000, deadline: 30 * MIN, attempt: 9, failure: retryable, deadlineMs: 30 * MIN })
    expect(next).toEqual({ action: 'retry', waitMs: 3_000 })
  })
  it('gives up at the deadline and says how long it tried and why', () => {
    const next = afterProvisionFailure({ now: 30 * MIN, deadline: 30 * MIN, attempt: 31, failure: retryable, deadlineMs: 30 * MIN })
    expect(next.action).toBe('give_up')
    expect(next.action === 'give_up' && next.reason).toMatch(/within 30 min \(31 attempts\).*connection refused/)
  })
  it('gives up at once on an error retrying cannot fix', () => {
    const next = afterProvisionFailure({
      now: 0,
      deadline: 30 * MIN,
      attempt: 1,
      failure: { type: 'USERNAME_TAKEN_BY_OTHER', message: 'fp_7 belongs to another order', nonRetryable: true },
      deadlineMs: 30 * MIN,
    })
    expect(next).toEqual({ action: 'give_up', reason: 'The account could not be created: fp_7 belongs to another order' })
  })
})

describe('afterPaymentOutcome', () => {
  it('goes on when the payment is approved', () => {
    expect(afterPaymentOutcome({ paymentId: 3, outcome: 'APPROVED', note: null })).toEqual({ proceed: true })
  })
  it('stops with a reason naming the payment when it is rejected or expired', () => {
    expect(afterPaymentOutcome({ paymentId: 3, outcome: 'REJECTED', note: 'blurry receipt' })).toEqual({
      proceed: false,
      reason: 'Payment #3 was rejected: blurry receipt. Nothing was charged.',
    })
    expect(afterPaymentOutcome({ paymentId: 4, outcome: 'EXPIRED', note: null })).toMatchObject({ proceed: false, reason: expect.stringMatching(/#4 expired/) })
  })
})

describe('compensationPlan', () => {
  it('refunds first, then removes the half-made user from every panel a create reached', () => {
    expect(compensationPlan({ debited: true, panelsTouched: [2, 5, 2], renewalTouched: false })).toEqual([
      { kind: 'refund' },
      { kind: 'delete_panel_user', panelId: 2 },
      { kind: 'delete_panel_user', panelId: 5 },
    ])
  })
  it('has nothing to undo before the debit', () => {
    expect(compensationPlan({ debited: false, panelsTouched: [], renewalTouched: false })).toEqual([])
  })
  it('restores the previous terms of a renewal that may have reached the panel', () => {
    expect(compensationPlan({ debited: true, panelsTouched: [], renewalTouched: true })).toEqual([{ kind: 'refund' }, { kind: 'restore_terms' }])
  })
})

describe('strayPanels', () => {
  it('lists the panels other than the one that holds the delivered account', () => {
    expect(strayPanels([1, 2, 1, 3], 2)).toEqual([1, 3])
    expect(strayPanels([4], 4)).toEqual([])
  })
})

describe('orderRowStatus', () => {
  it('maps live steps onto the coarser order states', () => {
    expect(orderRowStatus('paying')).toBe('provisioning')
    expect(orderRowStatus('compensating')).toBe('provisioning')
    expect(orderRowStatus('refunded')).toBe('failed')
    expect(orderRowStatus('awaiting_payment')).toBe('awaiting_payment')
  })
})

describe('formatDuration', () => {
  it('writes whole units', () => {
    expect(formatDuration(30 * MIN)).toBe('30 min')
    expect(formatDuration(72 * 60 * MIN)).toBe('3 d')
    expect(formatDuration(90_000)).toBe('90 s')
  })
})

describe('refuseCancel', () => {
  const running = { orderId: 9, step: 'provisioning' as const, delivered: false, cancel: null, cancelledAt: null }
  it('lets a cancel through until delivery', () => {
    for (const step of ['queued', 'awaiting_payment', 'paying', 'provisioning'] as const) expect(refuseCancel({ ...running, step })).toBeNull()
  })
  it('refuses a second cancel with who cancelled and when', () => {
    expect(refuseCancel({ ...running, cancel: { reason: 'changed my mind', actorUserId: 5 }, cancelledAt: '2026-01-01T10:00:00.000Z' })).toEqual({
      reason: 'already_cancelled',
      orderId: 9,
      cancelledBy: 5,
      cancelledAt: '2026-01-01T10:00:00.000Z',
    })
    expect(refuseCancel({ ...running, step: 'cancelled' })).toEqual({ reason: 'already_cancelled', orderId: 9, cancelledBy: null, cancelledAt: null })
  })
  it('is too late from delivery on, and once the order failed or was refunded', () => {
    expect(refuseCancel({ ...running, delivered: true })).toEqual({ reason: 'too_late', orderId: 9, state: 'delivered' })
    expect(refuseCancel({ ...running, step: 'delivered' })).toMatchObject({ reason: 'too_late', state: 'delivered' })
    expect(refuseCancel({ ...running, step: 'refunded' })).toMatchObject({ reason: 'too_late', state: 'refunded' })
    expect(refuseCancel({ ...running, step: 'failed' })).toMatchObject({ reason: 'too_late', state: 'failed' })
    expect(refuseCancel({ ...running, step: 'compensating' })).toMatchObject({ reason: 'too_late', state: 'failed' })
  })
})
