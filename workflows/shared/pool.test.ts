import { describe, expect, it } from 'vitest'
import { forEachBounded } from './pool.ts'

describe('forEachBounded', () => {
  it('visits every item once and never runs more than the limit at a time', async () => {
    let inFlight = 0
    let peak = 0
    const seen: number[] = []
    await forEachBounded([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++
      peak = Math.max(peak, inFlight)
      await new Promise((r) => setTimeout(r, n % 3))
      seen.push(n)
      inFlight--
    })
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(peak).toBe(3)
  })
  it('does nothing for no items and refuses a limit below one', async () => {
    await expect(forEachBounded([], 2, async () => {})).resolves.toBeUndefined()
    await expect(forEachBounded([1], 0, async () => {})).rejects.toThrow(/positive integer/)
  })
  it('stops at the first failure', async () => {
    await expect(
      forEachBounded([1, 2, 3], 1, async (n) => {
        if (n === 2) throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
  })
})
