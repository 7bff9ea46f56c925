/**
 * Virtual clock with time skipping. `now()` is the wall clock plus an offset that only ever grows, so time never
 * goes backwards. All timers of the server live here. When skipping is allowed and nothing is in flight, time jumps
 * straight to the next timer; otherwise timers fire in real time.
 */
export type TimeSkippingMode = 'locked' | 'unlocked' | 'off'

export interface ClockTimer {
  readonly at: number
  cancelled: boolean
}

interface Entry extends ClockTimer {
  seq: number
  fire: () => void
}

export class Clock {
  private offset = 0
  private heap: Entry[] = []
  private seq = 0
  private realTimer: NodeJS.Timeout | undefined
  private realTimerAt = Infinity
  private pokeScheduled = false
  private closed = false
  /** Explicit lock count (TestService Lock/Unlock). Skipping needs it at 0. */
  lockCount: number

  constructor(
    readonly mode: TimeSkippingMode,
    initialTime: number | undefined,
    /** Reports whether any work is in flight (which blocks skipping). */
    private readonly busy: () => boolean,
    private readonly onError: (error: unknown) => void,
  ) {
    this.lockCount = mode === 'locked' ? 1 : 0
    if (initialTime !== undefined) this.offset = initialTime - Date.now()
  }

  now(): number {
    return Date.now() + this.offset
  }

  /** Runs `fire` once virtual time reaches `at`. */
  at(at: number, fire: () => void): ClockTimer {
    const entry: Entry = { at, fire, cancelled: false, seq: this.seq++ }
    this.push(entry)
    this.poke()
    return entry
  }

  after(ms: number, fire: () => void): ClockTimer {
    return this.at(this.now() + Math.max(0, ms), fire)
  }

  cancel(timer: ClockTimer | undefined): void {
    if (timer) timer.cancelled = true
  }

  lock(): void {
    this.lockCount++
  }

  unlock(): boolean {
    if (this.lockCount === 0) return false
    this.lockCount--
    this.poke()
    return true
  }

  /** Moves time forward regardless of locks (for tests that drive time by hand). */
  skip(ms: number): void {
    if (ms > 0) this.offset += ms
    this.poke()
  }

  skipTo(time: number): void {
    this.skip(time - this.now())
  }

  /** Re-evaluates timers and skipping soon, after the current burst of work settles. */
  poke(): void {
    if (this.pokeScheduled || this.closed) return
    this.pokeScheduled = true
    setImmediate(() => {
      this.pokeScheduled = false
      this.run()
    })
  }

  close(): void {
    this.closed = true
    if (this.realTimer) clearTimeout(this.realTimer)
    this.heap = []
  }

  private canSkip(): boolean {
    return this.mode !== 'off' && this.lockCount === 0 && !this.busy()
  }

  private run(): void {
    if (this.closed) return
    for (;;) {
      const now = this.now()
      let fired = false
      while (this.heap.length > 0 && (this.heap[0]!.cancelled || this.heap[0]!.at <= now)) {
        const entry = this.pop()!
        if (entry.cancelled) continue
        entry.cancelled = true
        fired = true
        try {
          entry.fire()
        } catch (error) {
          this.onError(error)
        }
      }
      if (fired) {
        // Let the effects of the fired timers (new tasks, RPC replies) settle before deciding to skip again.
        this.poke()
        return
      }
      const next = this.heap[0]
      if (!next) break
      if (this.canSkip()) {
        this.offset += next.at - now
        continue
      }
      this.armRealTimer(next.at - now)
      return
    }
  }

  private armRealTimer(delayMs: number): void {
    const at = Date.now() + delayMs
    if (this.realTimer && this.realTimerAt <= at) return
    if (this.realTimer) clearTimeout(this.realTimer)
    this.realTimerAt = at
    // Bounded so that a skip (offset change) is noticed even when no other event pokes the clock.
    this.realTimer = setTimeout(() => {
      this.realTimer = undefined
      this.realTimerAt = Infinity
      this.run()
    }, Math.min(Math.max(0, delayMs), 1000))
    this.realTimer.unref?.()
  }

  private push(entry: Entry): void {
    const heap = this.heap
    heap.push(entry)
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!less(heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  private pop(): Entry | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m]!, heap[i]!]
        i = m
      }
    }
    return top
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}
