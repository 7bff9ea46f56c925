import fs from 'node:fs/promises'
import path from 'node:path'
import { Redis } from 'ioredis'
import type { Logger } from '../../infra/logger.ts'
import { findExecutable } from '../../infra/executables.ts'
import { commandLine, isAlive, spawnManaged, stopLeftover, tail, waitUntil } from './processes.ts'

/**
 * Redis for `npm start`: REDIS_URL when something answers there; otherwise, when REDIS_URL points at this
 * machine and `redis-server` is installed, a redis-server of our own (data under `<data>/redis`, stopped with
 * us); otherwise a one-line error that says how to fix it.
 */

async function answers(url: string): Promise<{ ok: true } | { ok: false; error: string }> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1500, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false })
  client.on('error', () => {})
  try {
    await client.connect()
    const pong = await client.ping()
    return pong === 'PONG' ? { ok: true } : { ok: false, error: `answered ${pong} to PING` }
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) }
  } finally {
    client.disconnect()
  }
}

function isLocal(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname)
}

function redact(url: URL): string {
  const copy = new URL(url)
  if (copy.password) copy.password = '***'
  return copy.toString()
}

export interface RedisHandle {
  url: string
  /** True when this process started the redis-server. */
  started: boolean
  stop(): Promise<void>
}

export async function ensureRedis(options: { url: string; dataDir: string; logger: Logger }): Promise<RedisHandle> {
  const { logger } = options
  const url = new URL(options.url)
  const dir = path.join(options.dataDir, 'redis')
  const pidFile = path.join(dir, 'redis.pid')

  // A redis-server of an earlier npm start that was killed: stop it, so this run's one is ours to stop.
  const leftover = Number(await fs.readFile(pidFile, 'utf8').catch(() => ''))
  if (Number.isInteger(leftover) && leftover > 0 && isAlive(leftover) && commandLine(leftover).includes('redis-server')) {
    logger.warn('redis-leftover', { pid: leftover, message: 'stopping a redis-server left running by an earlier npm start' })
    await stopLeftover(leftover, 'SIGTERM')
  }

  const first = await answers(options.url)
  if (first.ok) {
    logger.info('redis-external', { url: redact(url) })
    return { url: options.url, started: false, stop: async () => {} }
  }
  const server = findExecutable('redis-server')
  if (!isLocal(url) || !server) {
    const fix = isLocal(url)
      ? 'install Redis (sudo apt-get install redis-server) or set REDIS_URL to a running Redis'
      : 'start that Redis or point REDIS_URL at one that runs'
    throw new Error(`Redis is not reachable at ${redact(url)} (${first.error}): ${fix}.`)
  }

  await fs.mkdir(dir, { recursive: true })
  const port = url.port || '6379'
  const out = tail()
  const child = spawnManaged(server, [
    '--bind', '127.0.0.1',
    '--port', port,
    '--dir', dir,
    '--pidfile', pidFile,
    '--daemonize', 'no',
    '--save', '60 1',
    '--appendonly', 'no',
    ...(url.password ? ['--requirepass', decodeURIComponent(url.password)] : []),
  ])
  child.child.stdout?.on('data', (c: Buffer) => out.push(c))
  child.child.stderr?.on('data', (c: Buffer) => out.push(c))
  try {
    await waitUntil('redis-server', async () => (await answers(options.url)).ok, { timeoutMs: 10_000, abort: child.exited })
  } catch (error) {
    await child.stop()
    throw new Error(`redis-server did not start on 127.0.0.1:${port}: ${error instanceof Error ? error.message : String(error)}\n${out.text()}`)
  }
  logger.info('redis-started', { port: Number(port), dir })
  return {
    url: options.url,
    started: true,
    stop: async () => {
      await child.stop('SIGTERM')
      await fs.rm(pidFile, { force: true })
      logger.info('redis-stopped', {})
    },
  }
}
