import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The built-in Temporal test server's executable (the SDK's test-server launch contract). */
export const TEST_SERVER_LAUNCHER = fileURLToPath(new URL('../temporal/test-server/bin/temporal-test-server.mjs', import.meta.url))

/** The value at percentile `p` (0–100) of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/**
 * Starts the built-in Temporal server in dev mode (real time) in its own process, so the benchmark's worker and
 * client do not share an event loop with it. Resolves once it prints its ready line.
 */
export async function startServerProcess(): Promise<{ address: string; stop: () => Promise<void> }> {
  const port = 30_000 + Math.floor(Math.random() * 20_000)
  const child: ChildProcess = spawn(TEST_SERVER_LAUNCHER, ['dev', '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve())
    child.once('exit', (code) => reject(new Error(`test server exited with ${code}`)))
  })
  return {
    address: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}
