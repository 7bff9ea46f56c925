import { CancellationScope, isCancellation, sleep, workflowInfo } from '@temporalio/workflow'

/** Sleeps and reports how much workflow time passed. */
export async function sleeper(ms: number): Promise<number> {
  const start = Date.now()
  await sleep(ms)
  return Date.now() - start
}

/** Starts a long timer, cancels it, then finishes on a short one. */
export async function cancelTimer(): Promise<string> {
  const scope = new CancellationScope()
  const long = scope.run(() => sleep('1 day'))
  await sleep('1 minute')
  scope.cancel()
  try {
    await long
    return 'long timer fired'
  } catch (error) {
    if (!isCancellation(error)) throw error
  }
  await sleep('1 second')
  return 'cancelled'
}

/** Races a short and a long timer. */
export async function timerRace(): Promise<string> {
  return await Promise.race([sleep('2 hours').then(() => 'short'), sleep('3 hours').then(() => 'long')])
}

export async function startTime(): Promise<number> {
  return workflowInfo().startTime.getTime()
}
