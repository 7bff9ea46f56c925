import fs from 'node:fs/promises'
import path from 'node:path'
import { Connection } from '@temporalio/client'
import { startTestServer, type TestServer } from '#temporal/test-server/index.ts'
import type { Logger } from '../../infra/logger.ts'
import { findExecutable, freePort, spawnManaged, tail, waitUntil } from './processes.ts'

/**
 * Temporal for `npm start`, in this order:
 * 1. TEMPORAL_ADDRESS: a server someone else runs (docker-compose, Temporal Cloud, a dev server).
 * 2. TEMPORAL_CLI_PATH: the real Temporal CLI's dev server (`temporal server start-dev`), with its history
 *    in `<data>/temporal/dev.db` and its UI on 127.0.0.1:8233.
 * 3. Otherwise flowpanel's built-in server in real time: in memory, so workflows do not survive a restart.
 *    It is for trying flowpanel out, and says so.
 */

export type TemporalKind = 'external' | 'cli' | 'builtin'

export interface TemporalHandle {
  kind: TemporalKind
  address: string
  /** Where the Temporal UI is, when this process knows. */
  uiUrl?: string
  stop(): Promise<void>
}

async function answers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 })
  try {
    await connection.healthService.check({})
    return true
  } finally {
    await connection.close()
  }
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

  if (options.cliPath) {
    const cli = findExecutable(options.cliPath)
    if (!cli) throw new Error(`TEMPORAL_CLI_PATH is ${options.cliPath} but no executable is there; fix the path or unset it`)
    const dir = path.join(options.dataDir, 'temporal')
    await fs.mkdir(dir, { recursive: true })
    const port = await freePort('127.0.0.1', 7233)
    const uiPort = await freePort('127.0.0.1', 8233)
    const out = tail()
    const child = spawnManaged(cli, [
      'server', 'start-dev',
      '--ip', '127.0.0.1',
      '--port', String(port),
      '--ui-port', String(uiPort),
      '--db-filename', path.join(dir, 'dev.db'),
      '--namespace', options.namespace,
      '--log-level', 'warn',
    ])
    child.child.stdout?.on('data', (c: Buffer) => out.push(c))
    child.child.stderr?.on('data', (c: Buffer) => out.push(c))
    const address = `127.0.0.1:${port}`
    try {
      await waitUntil('the Temporal CLI dev server', () => answers(address), { timeoutMs: 60_000, intervalMs: 500, abort: child.exited })
    } catch (error) {
      await child.stop()
      throw new Error(`${error instanceof Error ? error.message : String(error)}\n${out.text()}`)
    }
    const uiUrl = `http://127.0.0.1:${uiPort}`
    logger.info('temporal-cli-started', { address, uiUrl, db: path.join(dir, 'dev.db') })
    return { kind: 'cli', address, uiUrl, stop: () => child.stop('SIGTERM') }
  }

  const port = await freePort('127.0.0.1', 7233)
  const server: TestServer = await startTestServer({
    port,
    host: '127.0.0.1',
    namespaces: [...new Set(['default', options.namespace])],
    timeSkipping: 'off',
    testService: false,
    longPollMs: 60_000,
  })
  logger.warn('temporal-builtin', {
    address: server.address,
    message:
      'No TEMPORAL_ADDRESS or TEMPORAL_CLI_PATH: running the built-in in-memory Temporal server. It is for trying flowpanel out: ' +
      'running workflows (orders, payments, credit watches) are lost when npm start stops, and there is no Temporal UI. ' +
      'Use docker-compose or set TEMPORAL_CLI_PATH for real use.',
  })
  return { kind: 'builtin', address: server.address, stop: () => server.close() }
}
