import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import { freePort } from '../../../bin/start/processes.ts'

/** Running `npm start` (and the CLI) as child processes of a test, the way an operator runs them in a terminal. */

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

/** Every `npm start` a test file started, so its afterAll can kill what is left. */
export const started: ChildProcess[] = []

/** Configuration of the test runner itself that must not leak into `npm start` or the CLI. */
const UNSET = ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_CLI_PATH', 'APP_SECRET', 'PUBLIC_URL', 'NODE_ENV', 'TELEGRAM_BOT_TOKEN']

export function baseEnv(): NodeJS.ProcessEnv {
  const base = { ...process.env }
  for (const key of UNSET) delete base[key]
  return base
}

export interface Running {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Exit code, or the signal that ended the process. */
  exited: Promise<number | NodeJS.Signals | null>
}

/**
 * `via: 'npm'` is `npm start` itself (npm relays Ctrl-C, so the app may see it twice);
 * `via: 'node'` runs the app as the only process, so its own exit code is observable.
 */
export async function startProcess(dataDir: string, env: Record<string, string>, via: 'npm' | 'node' = 'npm'): Promise<Running> {
  // Its own process group, like a terminal's foreground job, so the test can Ctrl-C the whole group.
  const [command, args] = via === 'npm' ? ['npm', ['start']] : [process.execPath, ['--import', 'tsx', 'bin/start.ts']]
  const child = spawn(command as string, args as string[], {
    cwd: repo,
    env: { ...baseEnv(), FLOWPANEL_DATA_DIR: dataDir, PORT: String(await freePort('127.0.0.1')), LOG_LEVEL: 'info', ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  started.push(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()))
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  return { child, stdout: () => out, stderr: () => err, exited }
}

export async function waitFor<T>(what: string, fn: () => T | undefined, run: Running, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let exitCode: number | NodeJS.Signals | null | undefined
  void run.exited.then((code) => (exitCode = code))
  while (Date.now() < deadline) {
    const value = fn()
    if (value !== undefined) return value
    if (exitCode !== undefined) throw new Error(`npm start exited (${exitCode}) before ${what}:\n${run.stderr()}\n${run.stdout().slice(-3000)}`)
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`timed out waiting for ${what}:\n${run.stderr()}\n${run.stdout().slice(-3000)}`)
}

export function ctrlC(run: Running): void {
  process.kill(-run.child.pid!, 'SIGINT')
}

/** SIGKILL to every `npm start` a test started that still runs (its process group). */
export function killStarted(): void {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {}
    }
  }
}

/** Processes whose command line mentions the data directory (embedded Postgres, the Temporal dev server). */
export function processesUsingDataDir(dataDir: string): string[] {
  const out: string[] = []
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (cmd.includes(dataDir)) out.push(`${pid}: ${cmd}`)
    } catch {}
  }
  return out
}

export async function signIn(base: string, username: string, password: string): Promise<Response> {
  const page = await fetch(`${base}/login`)
  expect(page.status).toBe(200)
  const html = await page.text()
  const csrf = /name="_csrf"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="_csrf"/.exec(html)
  if (!csrf) throw new Error('the login page has no CSRF field')
  const cookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  return fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie, Origin: base },
    body: new URLSearchParams({ _csrf: csrf[1] ?? csrf[2]!, username, password }),
  })
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * One `npm run cli -- …` command (run as node with the tsx loader, as the script does). Asynchronous on purpose:
 * fakes served by the test process must keep answering while the command runs.
 */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/flowpanel.ts', ...args], {
      cwd: repo,
      env: { ...baseEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`cli ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
