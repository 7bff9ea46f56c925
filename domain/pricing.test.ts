import { describe, expect, it } from 'vitest'
import { BYTES_PER_GB, DAY_MS, bytesToGb, gbToBytes, newAccountTerms, priceForRole, renewalTerms } from './pricing.ts'

const plan = { price: 150_000n, agentPrice: 120_000n }
const NOW = Date.UTC(2026, 10, 21, 12)

describe('priceForRole', () => {
  it('charges agents the agent price and everyone else the public price', () => {
    expect(priceForRole('agent', plan)).toBe(120_000n)
    expect(priceForRole('customer', plan)).toBe(150_000n)
    expect(priceForRole('admin', plan)).toBe(150_000n)
  })
})

describe('gbToBytes', () => {
  it('reads whole and fractional gigabytes, and Persian digits', () => {
    expect(gbToBytes('50')).toBe(50n * BYTES_PER_GB)
    expect(gbToBytes('0.5')).toBe(BYTES_PER_GB / 2n)
    expect(gbToBytes('۱۰')).toBe(10n * BYTES_PER_GB)
    expect(gbToBytes(0)).toBe(0n)
  })
  it('refuses anything that is not a size', () => {
    expect(() => gbToBytes('-1')).toThrow(/not a size in GB/)
    expect(() => gbToBytes('1e3')).toThrow(/not a size in GB/)
    expect(() => gbToBytes('0.0001')).toThrow(/not a size in GB/)
  })
  it('round-trips through bytesToGb', () => {
    expect(bytesToGb(gbToBytes('12.25'))).toBe('12.25')
    expect(bytesToGb(gbToBytes('30'))).toBe('30')
  })
})

describe('newAccountTerms', () => {
  it('runs for the plan days from now with the plan traffic', () => {
    expect(newAccountTerms(NOW, { days: 30, dataLimitBytes: 5n })).toEqual({ expiresAt: NOW + 30 * DAY_MS, dataLimitBytes: 5n })
  })
})

describe('renewalTerms', () => {
  const p = { days: 30, dataLimitBytes: 100n }
  it('adds the days to the current expiry when the account is still running', () => {
    const t = renewalTerms(NOW, { expiresAt: NOW + 5 * DAY_MS, dataLimitBytes: 100n, dataUsedBytes: 40n }, p)
    expect(t.expiresAt).toBe(NOW + 35 * DAY_MS)
  })
  it('restarts from now when the account has expired', () => {
    const t = renewalTerms(NOW, { expiresAt: NOW - 3 * DAY_MS, dataLimitBytes: 100n, dataUsedBytes: 40n }, p)
    expect(t.expiresAt).toBe(NOW + 30 * DAY_MS)
  })
  it('carries the remaining traffic over', () => {
    const t = renewalTerms(NOW, { expiresAt: NOW, dataLimitBytes: 100n, dataUsedBytes: 40n }, p)
    // 60 bytes left + 100 new = 160 bytes left, so the limit becomes used (40) + 160.
    expect(t.dataLimitBytes - 40n).toBe(160n)
  })
  it('does not let traffic over the old limit eat into the new plan', () => {
    const t = renewalTerms(NOW, { expiresAt: NOW, dataLimitBytes: 100n, dataUsedBytes: 130n }, p)
    expect(t.dataLimitBytes - 130n).toBe(100n)
  })
  it('keeps unlimited accounts unlimited, and an unlimited plan makes the account unlimited', () => {
    expect(renewalTerms(NOW, { expiresAt: null, dataLimitBytes: 0n, dataUsedBytes: 9n }, p).dataLimitBytes).toBe(0n)
    expect(renewalTerms(NOW, { expiresAt: null, dataLimitBytes: 50n, dataUsedBytes: 9n }, { days: 1, dataLimitBytes: 0n }).dataLimitBytes).toBe(0n)
  })
})
