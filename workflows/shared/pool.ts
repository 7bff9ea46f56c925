/**
 * Runs `fn` over `items` with at most `limit` calls in flight, in order of the items. Deterministic (no timers,
 * no randomness), so workflow code may use it to fan out activities with bounded concurrency.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`concurrency limit must be a positive integer, got ${limit}`)
  let next = 0
  const lane = async () => {
    while (next < items.length) {
      const index = next++
      await fn(items[index]!, index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
}
