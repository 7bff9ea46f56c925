import { CancellationScope, isCancellation, sleep, workflowInfo } from '@temporalio/workflow'

/** Sleeps and reports how much workflow time passed. */
export async function sleeper(ms: number): Promise<number> {
  const start = Date.now()
  await sleep(ms)
  return Date.now() - start
}

/** Starts a long timer, cancels it, then finishes on a short one. */
export async function cancelTimer(input: { waitMs?: number } = {}): Promise<string> {
  const scope = new CancellationScope()
  const long = scope.run(() => sleep('1 day'))
  await sleep(input.waitMs ?? 60_000)
  scope.cancel()
  try {
    await long
    return 'long timer fired'
  } catch (error) {
    if (!isCancellation(error)) throw error
  }
  await sleep(Math.min(1000, input.waitMs ?? 1000))
  return 'cancelled'
}

/** Races a short and a long timer. */
export async function timerRace(input: { shortMs: number; longMs: number } = { shortMs: 7_200_000, longMs: 10_800_000 }): Promise<string> {
  return await Promise.race([sleep(input.shortMs).then(() => 'short'), sleep(input.longMs).then(() => 'long')])
}

export async function startTime(): Promise<number> {
  return workflowInfo().startTime.getTime()
}
