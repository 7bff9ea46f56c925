/**
 * `npm run temporal:dev [-- --port N] [--db-filename FILE] [--namespace NS]`: Temporal's own CLI dev server (the binary
 * `npm run setup:temporal` installs) on 127.0.0.1:N (7233 by default), its Web UI on a free port. Prints both addresses
 * once it answers; Ctrl-C stops it. Without --db-filename it keeps everything in memory.
 */
import { spawn } from 'node:child_process'
import { findTemporalCli, SETUP_HINT, temporalAnswers } from '#temporal/servers.ts'
import { freePort, waitUntil } from './start/processes.ts'

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}

async function main(): Promise<void> {
  const cli = findTemporalCli()
  if (!cli) throw new Error(`no Temporal CLI found: ${SETUP_HINT}`)
  const port = Number(flag('port') ?? 7233)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be a TCP port, got ${flag('port')}`)
  const uiPort = await freePort('127.0.0.1', port + 1000)
  const db = flag('db-filename')
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-ip', '127.0.0.1', '--ui-port', String(uiPort), '--namespace', flag('namespace') ?? 'default', '--log-level', 'error', ...(db ? ['--db-filename', db] : [])]
  const child = spawn(cli.path, args, { stdio: ['ignore', 'ignore', 'inherit'] })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const address = `127.0.0.1:${port}`
  await waitUntil('the Temporal CLI dev server', () => temporalAnswers(address), { timeoutMs: 60_000, intervalMs: 250, abort: exited })
  process.stdout.write(`Temporal: ${address}\nTemporal UI: http://127.0.0.1:${uiPort}\n`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => child.kill('SIGTERM'))
  process.exitCode = (await exited) ?? 0
}

main().catch((error: unknown) => {
  process.stderr.write(`temporal:dev: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
