import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import knexFactory from 'knex'
import { afterAll, describe, expect, it } from 'vitest'
import { startPlatform } from '../../../bin/start.ts'
import { freePort } from '../../../bin/start/processes.ts'
import { createLogger } from '../../../infra/logger.ts'
import { createDb, waitForDatabase } from '#db/knex.ts'
import { TEST_PG_URL } from '#tests/setup/database.ts'

/**
 * Start-up against a Postgres that is not there yet, as in docker compose when the database container is still
 * starting: the app's own migration step (`--migrate-only`) waits, bounded by DATABASE_WAIT, with a clear message.
 * The "late" Postgres is a TCP relay to the test server that starts listening only after a while.
 */
const upstream = new URL(TEST_PG_URL)
const servers: net.Server[] = []
const databases: string[] = []
const dirs: string[] = []

/** Relays connections on `port` to the test Postgres; the first `starting` connections get Postgres's own "starting up" error. */
async function lateRelay(port: number, options: { starting?: number } = {}): Promise<{ connections: () => number }> {
  let connections = 0
  let starting = options.starting ?? 0
  const server = net.createServer((socket) => {
    connections++
    if (starting > 0) {
      starting--
      socket.once('data', () => socket.end(postgresError('57P03', 'the database system is starting up')))
      return
    }
    const target = net.connect(Number(upstream.port || 5432), upstream.hostname)
    socket.pipe(target).pipe(socket)
    socket.on('error', () => target.destroy())
    target.on('error', () => socket.destroy())
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()))
  return { connections: () => connections }
}

/** A Postgres ErrorResponse message (protocol 3.0): severity, SQLSTATE, message. */
function postgresError(code: string, message: string): Buffer {
  const fields = Buffer.concat([Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0`), Buffer.from([0])])
  const head = Buffer.alloc(5)
  head.write('E', 0)
  head.writeInt32BE(fields.length + 4, 1)
  return Buffer.concat([head, fields])
}

function urlOn(port: number, database: string, password = 'not-shown-0123'): string {
  const url = new URL(TEST_PG_URL)
  url.port = String(port)
  url.pathname = `/${database}`
  // Trust authentication ignores the password; it is here to prove it never reaches a message.
  url.password = password
  return url.toString()
}

afterAll(async () => {
  for (const server of servers) server.close()
  const admin = knexFactory({ client: 'pg', connection: TEST_PG_URL, pool: { min: 0, max: 1 } })
  try {
    for (const name of databases) await admin.raw(`drop database if exists "${name}" with (force)`)
  } finally {
    await admin.destroy()
  }
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true })
})

describe('waiting for Postgres at start-up', () => {
  it('waits for a Postgres that starts listening later, then goes on', async () => {
    const port = await freePort('127.0.0.1')
    const retries: string[] = []
    const started = Date.now()
    setTimeout(() => void lateRelay(port), 1500)
    await waitForDatabase(urlOn(port, 'postgres'), { timeoutMs: 20_000, intervalMs: 200, onRetry: ({ error }) => retries.push(error) })
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400)
    expect(retries.length).toBeGreaterThan(2)
    expect(retries[0]).toMatch(/ECONNREFUSED/)
  })

  it('waits while Postgres answers that it is starting up', async () => {
    const port = await freePort('127.0.0.1')
    const relay = await lateRelay(port, { starting: 2 })
    const retries: string[] = []
    await waitForDatabase(urlOn(port, 'postgres'), { timeoutMs: 20_000, intervalMs: 100, onRetry: ({ error }) => retries.push(error) })
    expect(retries).toEqual([expect.stringMatching(/57P03.*starting up/), expect.stringMatching(/57P03.*starting up/)])
    expect(relay.connections()).toBe(3)
  })

  it('gives up after DATABASE_WAIT with a message naming the server, never the password', async () => {
    const port = await freePort('127.0.0.1')
    const started = Date.now()
    const error = await waitForDatabase(urlOn(port, 'postgres', 'hunter2-secret'), { timeoutMs: 1200, intervalMs: 200 }).then(
      () => undefined,
      (e: Error) => e,
    )
    expect(Date.now() - started).toBeLessThan(8000)
    expect(error?.message).toMatch(new RegExp(`^Postgres at 127\\.0\\.0\\.1:${port} did not accept connections within 1\\.2 s \\(DATABASE_WAIT\\); last error: .*ECONNREFUSED`))
    expect(error?.message).not.toContain('hunter2-secret')
  })

  it('npm start -- --migrate-only migrates a database whose server comes up after the process started', async () => {
    const port = await freePort('127.0.0.1')
    const name = `fp_dbwait_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    databases.push(name)
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowpanel-dbwait-'))
    dirs.push(dataDir)
    const lines: { event: string; message?: string }[] = []
    setTimeout(() => void lateRelay(port), 2000)
    const platform = await startPlatform({
      role: 'all',
      migrateOnly: true,
      env: { NODE_ENV: 'test', APP_SECRET: 'a'.repeat(64), DATABASE_URL: urlOn(port, name), DATABASE_WAIT: '30s', FLOWPANEL_DATA_DIR: dataDir, PATH: process.env.PATH },
      logger: createLogger({ service: 'test', write: (line) => lines.push(JSON.parse(line)) }),
      print: () => {},
    })
    await platform.stop()
    expect(lines.filter((l) => l.event === 'database-wait').length).toBeGreaterThan(0)
    expect(lines.find((l) => l.event === 'database-wait')?.message).toMatch(/Postgres is not accepting connections yet; waiting up to \d+ s more/)
    const db = createDb(urlOn(Number(upstream.port || 5432), name))
    try {
      const applied = await db('knex_migrations').count<{ count: string }[]>('* as count')
      expect(Number(applied[0]!.count)).toBeGreaterThan(5)
    } finally {
      await db.destroy()
    }
  })

  it('npm start -- --migrate-only fails with the bounded wait when Postgres never comes', async () => {
    const port = await freePort('127.0.0.1')
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowpanel-dbwait-'))
    dirs.push(dataDir)
    await expect(
      startPlatform({
        role: 'all',
        migrateOnly: true,
        env: { NODE_ENV: 'test', APP_SECRET: 'a'.repeat(64), DATABASE_URL: urlOn(port, 'postgres'), DATABASE_WAIT: '1s', FLOWPANEL_DATA_DIR: dataDir, PATH: process.env.PATH },
        logger: createLogger({ service: 'test', write: () => {} }),
        print: () => {},
      }),
    ).rejects.toThrow(/did not accept connections within 1 s \(DATABASE_WAIT\)/)
  })
})
