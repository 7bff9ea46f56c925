import { describe, expect, it } from 'vitest'
import { DAY_MS, usageWarnings } from './rules.ts'

const NOW = Date.UTC(2026, 10, 21)
const base = { accountId: 7, status: 'active', dataLimitBytes: 1_000n, dataUsedBytes: 0n, expiresAt: NOW + 20 * DAY_MS }

describe('usageWarnings', () => {
  it('warns at 80 % of the traffic, not before', () => {
    expect(usageWarnings({ ...base, dataUsedBytes: 799n }, NOW)).toEqual([])
    expect(usageWarnings({ ...base, dataUsedBytes: 800n }, NOW)).toEqual([{ warning: 'traffic80', key: 'warn:traffic80:7:1000', usedPercent: 80 }])
  })
  it('warns within three days of expiry, but not after it', () => {
    expect(usageWarnings({ ...base, expiresAt: NOW + 3 * DAY_MS }, NOW).map((w) => w.warning)).toEqual(['expiry3d'])
    expect(usageWarnings({ ...base, expiresAt: NOW + 3 * DAY_MS + 1 }, NOW)).toEqual([])
    expect(usageWarnings({ ...base, expiresAt: NOW - 1 }, NOW)).toEqual([])
  })
  it('gives a renewed term a new key, so the next term can be warned again', () => {
    const first = usageWarnings({ ...base, dataUsedBytes: 900n }, NOW)[0]!.key
    const renewed = usageWarnings({ ...base, dataLimitBytes: 2_000n, dataUsedBytes: 1_700n }, NOW)[0]!.key
    expect(renewed).not.toBe(first)
  })
  it('never warns unlimited, disabled or deleted accounts about traffic', () => {
    expect(usageWarnings({ ...base, dataLimitBytes: 0n, dataUsedBytes: 10n ** 15n }, NOW)).toEqual([])
    expect(usageWarnings({ ...base, status: 'disabled', dataUsedBytes: 999n }, NOW)).toEqual([])
  })
})
