import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'

/**
 * Child processes of `npm start` (embedded Postgres, a local redis-server, a Temporal CLI dev server).
 * They run in their own process group, so a Ctrl-C in the terminal reaches only `npm start`, which then
 * stops them in order: the worker finishes its activities before their database goes away. If this
 * process dies without a chance to stop them, the exit hook still signals them.
 */

const children = new Set<ChildProcess>()

process.once('exit', () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  }
})

export interface ManagedChild {
  child: ChildProcess
  /** Resolves with the exit code (or signal) when the process has exited. */
  exited: Promise<number | NodeJS.Signals | null>
  /** Sends `signal`, waits up to `timeoutMs`, then SIGKILL. Safe to call more than once. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<void>
}

export function spawnManaged(command: string, args: string[], options: SpawnOptions = {}): ManagedChild {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, detached: true })
  children.add(child)
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child)
      resolve(code ?? signal)
    })
    child.once('error', () => {
      children.delete(child)
      resolve(null)
    })
  })
  let stopping: Promise<void> | undefined
  return {
    child,
    exited,
    stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
        child.kill(signal)
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
        await exited
        clearTimeout(timer)
      })()
      return stopping
    },
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The command line of a live process (Linux /proc), or '' when unknown. */
export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
  } catch {
    return ''
  }
}

/** Signals a leftover process of an earlier run and waits for it to go. */
export async function stopLeftover(pid: number, signal: NodeJS.Signals, timeoutMs = 15_000): Promise<boolean> {
  if (!isAlive(pid)) return true
  process.kill(pid, signal)
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true
    await sleep(100)
  }
  return !isAlive(pid)
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** `preferred` when it is free on `host`, otherwise any free port. */
export async function freePort(host: string, preferred?: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = net.createServer()
      server.once('error', () => resolve(undefined))
      server.listen(port, host, () => {
        const bound = (server.address() as net.AddressInfo).port
        server.close(() => resolve(bound))
      })
    })
  if (preferred !== undefined) {
    const port = await tryPort(preferred)
    if (port !== undefined) return port
  }
  const port = await tryPort(0)
  if (port === undefined) throw new Error(`no free TCP port on ${host}`)
  return port
}

/** Polls `check` until it resolves true or the deadline passes; the error names `what`. */
export async function waitUntil(what: string, check: () => Promise<boolean>, options: { timeoutMs: number; intervalMs?: number; abort?: Promise<unknown> }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  let aborted = false
  void options.abort?.then(() => (aborted = true))
  while (Date.now() < deadline) {
    if (aborted) throw new Error(`${what}: the process exited while starting`)
    if (await check().catch(() => false)) return
    await sleep(options.intervalMs ?? 200)
  }
  throw new Error(`${what} did not become ready within ${Math.round(options.timeoutMs / 1000)} s`)
}

/** Keeps the last `max` characters a child wrote, for error messages. */
export function tail(max = 4000): { push(chunk: Buffer | string): void; text(): string } {
  let buffer = ''
  return {
    push(chunk) {
      buffer = (buffer + chunk.toString()).slice(-max)
    },
    text: () => buffer.trim(),
  }
}
