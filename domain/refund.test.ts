import { describe, expect, it } from 'vitest'
import { DEFAULT_REFUND_POLICY, quoteRefund, usedTimeBps, usedTrafficBps, validateRefundPolicy } from './refund.ts'

const H = 3_600_000
const START = Date.UTC(2026, 10, 1)
const term = { paid: 300_000n, startedAt: START, expiresAt: START + 30 * 24 * H, dataLimitBytes: 1_000n, dataUsedBytes: 0n }

describe('quoteRefund', () => {
  it('refunds everything inside the window when little traffic was used', () => {
    const q = quoteRefund({ ...term, now: START + 2 * H, dataUsedBytes: 10n })
    expect(q).toMatchObject({ amount: 300_000n, rule: 'full_window' })
  })
  it('prorates by used time when time is the larger fraction', () => {
    const q = quoteRefund({ ...term, now: START + 15 * 24 * H, dataUsedBytes: 100n })
    expect(q.rule).toBe('prorated')
    expect(q.usedTimeBps).toBe(5_000)
    expect(q.amount).toBe(150_000n)
  })
  it('prorates by used traffic when traffic is the larger fraction, even inside the window', () => {
    const q = quoteRefund({ ...term, now: START + 1 * H, dataUsedBytes: 750n })
    expect(q).toMatchObject({ rule: 'prorated', usedTrafficBps: 7_500, amount: 75_000n })
  })
  it('refunds nothing after expiry or once the traffic is used up', () => {
    expect(quoteRefund({ ...term, now: term.expiresAt }).rule).toBe('expired')
    expect(quoteRefund({ ...term, now: term.expiresAt + 1 }).amount).toBe(0n)
    expect(quoteRefund({ ...term, now: START + H, dataUsedBytes: 1_000n })).toMatchObject({ amount: 0n, rule: 'traffic_used_up' })
  })
  it('refunds nothing when nothing was paid', () => {
    expect(quoteRefund({ ...term, paid: 0n, now: START }).rule).toBe('nothing_paid')
  })
  it('never refunds more than was paid and rounds in favour of the house', () => {
    for (let minutes = 0; minutes < 30 * 24 * 60; minutes += 997) {
      const q = quoteRefund({ ...term, paid: 99_999n, now: START + 25 * H + minutes * 60_000 })
      expect(q.amount).toBeLessThanOrEqual(99_999n)
      expect(q.amount).toBeGreaterThanOrEqual(0n)
      expect(q.amount * 10_000n).toBeLessThanOrEqual(99_999n * BigInt(10_000 - Math.max(q.usedTimeBps, q.usedTrafficBps)))
    }
  })
  it('treats unlimited traffic as unused and no expiry as no elapsed fraction', () => {
    expect(usedTrafficBps({ dataLimitBytes: 0n, dataUsedBytes: 10n ** 12n })).toBe(0)
    expect(usedTimeBps({ startedAt: START, expiresAt: null, now: START + 1_000 * H })).toBe(0)
    expect(quoteRefund({ ...term, expiresAt: null, dataLimitBytes: 0n, now: START + 100 * H })).toMatchObject({ amount: 300_000n, rule: 'prorated' })
  })
  it('follows a stricter policy when configured', () => {
    const strict = { ...DEFAULT_REFUND_POLICY, fullRefundWindowMs: 0 }
    expect(quoteRefund({ ...term, now: START + H }, strict).rule).toBe('prorated')
  })
})

describe('validateRefundPolicy', () => {
  it('refuses nonsense values with a message naming the field', () => {
    expect(() => validateRefundPolicy({ ...DEFAULT_REFUND_POLICY, fullRefundMaxTrafficBps: 20_000 })).toThrow(/fullRefundMaxTrafficBps/)
    expect(() => validateRefundPolicy({ ...DEFAULT_REFUND_POLICY, fullRefundWindowMs: -1 })).toThrow(/fullRefundWindowMs/)
  })
})
