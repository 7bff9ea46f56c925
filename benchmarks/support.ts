import fs from 'node:fs'
import { findTemporalCli, SETUP_HINT, temporalAnswers } from '#temporal/servers.ts'
import { freePort, spawnManaged, tail, waitUntil } from '../bin/start/processes.ts'

/** The value at percentile `p` (0–100) of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** The value after `--name` on the command line, if given. */
export function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

export interface BenchServer {
  address: string
  /** What the server is, for the benchmark's heading. */
  description: string
  /** CPU seconds (user + system) the server process has used so far; undefined when it is not ours. */
  cpuSeconds(): number | undefined
  stop(): Promise<void>
}

/** User + system CPU time of a live process, from /proc (Linux; clock ticks of 1/100 s). */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}

/**
 * Starts the Temporal CLI dev server (`temporal server start-dev`, found by findTemporalCli) in its own process on a
 * free port, with SQLite in memory, no Web UI and `--log-level error`, so the benchmark's worker and client do not
 * share a CPU budget with it in one event loop. Resolves once its gRPC health check answers.
 */
export async function startServerProcess(): Promise<BenchServer> {
  const cli = findTemporalCli()
  if (!cli) throw new Error(`no Temporal CLI found: ${SETUP_HINT}`)
  const port = await freePort('127.0.0.1')
  const child = spawnManaged(cli.path, ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'error'])
  const out = tail()
  child.child.stdout?.on('data', (c: Buffer) => out.push(c))
  child.child.stderr?.on('data', (c: Buffer) => {
    out.push(c)
    process.stderr.write(c)
  })
  const address = `127.0.0.1:${port}`
  try {
    await waitUntil('the Temporal CLI dev server', () => temporalAnswers(address), { timeoutMs: 60_000, intervalMs: 100, abort: child.exited })
  } catch (error) {
    await child.stop()
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${out.text()}`)
  }
  const pid = child.child.pid
  return {
    address,
    description: 'Temporal CLI dev server in its own process, SQLite in memory',
    cpuSeconds: () => (pid === undefined ? undefined : processCpuSeconds(pid)),
    stop: () => child.stop('SIGTERM'),
  }
}

/** The server at `--address host:port` when given (left running at the end), else a CLI dev server of our own. */
export async function benchServer(): Promise<BenchServer> {
  const address = flag('address')
  if (!address) return await startServerProcess()
  return { address, description: `server at ${address}`, cpuSeconds: () => undefined, stop: async () => {} }
}
