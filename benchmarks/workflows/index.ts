/**
 * The workflows `npm run bench:temporal` runs: `greeting` (one activity, then done) for throughput and round trip,
 * `sleeper` (one timer) for the time-skipping test server.
 */
import { proxyActivities, sleep } from '@temporalio/workflow'
import type * as activities from './activities.ts'

const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: '10s' })

export async function greeting(name: string): Promise<string> {
  return await greet(name)
}

/** Sleeps `ms` of workflow time; returns how much workflow time passed. */
export async function sleeper(ms: number): Promise<number> {
  const start = Date.now()
  await sleep(ms)
  return Date.now() - start
}
