import { describe, expect, it } from 'vitest'
import { graceDeadline, isNonNegative, latestReport, shouldContinueAsNew } from './rules.ts'

const H = 3_600_000

describe('graceDeadline', () => {
  it('gives the full grace period to a credit that has just gone negative', () => {
    expect(graceDeadline(1_000, 24 * H, 0)).toBe(1_000 + 24 * H)
    expect(graceDeadline(1_000, 24 * H, null)).toBe(1_000 + 24 * H)
  })
  it('counts the time the credit was already negative', () => {
    expect(graceDeadline(0, 24 * H, 20 * H)).toBe(4 * H)
  })
  it('is now when the grace period is already over', () => {
    expect(graceDeadline(5, 24 * H, 30 * H)).toBe(5)
  })
})

describe('isNonNegative', () => {
  it('reads decimal strings', () => {
    expect(isNonNegative('0')).toBe(true)
    expect(isNonNegative('-1')).toBe(false)
    expect(isNonNegative('1500000')).toBe(true)
  })
})

describe('latestReport', () => {
  it('keeps the later report whatever the arrival order', () => {
    const early = { usable: '-5', at: '2026-11-21T10:00:00.000Z' }
    const late = { usable: '10', at: '2026-11-21T10:00:01.000Z' }
    expect(latestReport(null, early)).toBe(early)
    expect(latestReport(early, late)).toBe(late)
    expect(latestReport(late, early)).toBe(late)
  })
})

describe('shouldContinueAsNew', () => {
  it('continues when Temporal suggests it or the history is long', () => {
    expect(shouldContinueAsNew(10, true)).toBe(true)
    expect(shouldContinueAsNew(6_000, false)).toBe(true)
    expect(shouldContinueAsNew(100, false)).toBe(false)
  })
})
