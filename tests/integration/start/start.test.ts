import fs from 'node:fs'
import fsp from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb } from '#db/knex.ts'
import { embeddedDatabaseUrl, readEmbeddedPostgresInfo } from '../../../bin/start/data-dir.ts'
import { freePort } from '../../../bin/start/processes.ts'
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.ts'
import { ctrlC, processesUsingDataDir, signIn, started, startProcess, waitFor } from './run.ts'

/**
 * `npm start` as an operator runs it: a fresh data directory, no DATABASE_URL, no TEMPORAL_ADDRESS, no
 * APP_SECRET. It must come up with the embedded Postgres and Temporal's own CLI dev server (persisted under the
 * data directory, with its Web UI), print an admin who can sign in, answer /readyz, and leave no process behind
 * after Ctrl-C.
 */
let dataDir: string
let telegram: FakeTelegram

beforeAll(async () => {
  dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flowpanel-start-'))
  telegram = await startFakeTelegram({ token: '4242424242:start-test-token-0123456789abcdefghij' })
})

afterAll(async () => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {}
    }
  }
  await telegram?.close()
  await fsp.rm(dataDir, { recursive: true, force: true })
})

describe('npm start on a machine with nothing configured', () => {
  let admin: { username: string; password: string }

  it('comes up on embedded Postgres and the Temporal CLI dev server, prints an admin who can sign in, and stops cleanly on Ctrl-C', async () => {
    const run = await startProcess(dataDir, { REDIS_URL: 'redis://127.0.0.1:6379' })
    const url = await waitFor('the banner', () => /flowpanel is running: (\S+)/.exec(run.stdout())?.[1], run, 180_000)
    const [, username, password] = /username: (\S+)\s+password: (\S+)/.exec(run.stdout()) ?? []
    // A generated name, not the guessable `admin` (FIRST_ADMIN_USERNAME would name it).
    expect(username).toMatch(/^admin-[a-z2-9]{6}$/)
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/)
    admin = { username: username!, password: password! }
    // Next to the web address: where Temporal and its UI are.
    const temporalAddress = /^ {2}Temporal: (127\.0\.0\.1:\d+)$/m.exec(run.stdout())?.[1]
    const uiUrl = /^ {2}Temporal UI: (http:\/\/127\.0\.0\.1:\d+)$/m.exec(run.stdout())?.[1]
    expect(temporalAddress).toBeDefined()
    expect(uiUrl).toBeDefined()
    expect((await fetch(uiUrl!)).status).toBe(200)
    expect(fs.existsSync(path.join(dataDir, 'temporal', 'dev.db'))).toBe(true)
    // The password is for the person at the terminal: it is not in the JSON logs.
    expect(run.stdout().split('\n').filter((l) => l.startsWith('{')).join('\n')).not.toContain(admin.password)

    const ready = await fetch(`${url}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { postgres: { ok: true }, redis: { ok: true }, temporal: { ok: true } } })

    const login = await signIn(url, admin.username, admin.password)
    expect(login.status).toBe(302)
    expect(login.headers.get('location')).toBe('/admin')
    const session = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
    const home = await fetch(`${url}/admin`, { headers: { Cookie: session }, redirect: 'manual' })
    expect(home.status).toBe(200)
    const wrong = await signIn(url, admin.username, 'not-the-password')
    expect(wrong.status).toBe(400)

    // The workflow counts in /metrics come from the dev server's visibility store.
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toMatch(/^flowpanel_workflow_executions\{status="[A-Za-z]+"\} \d+$/m)

    const secret = await fsp.stat(path.join(dataDir, 'app-secret'))
    expect(secret.mode & 0o777).toBe(0o600)
    expect(fs.existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true)

    // Something to find again after a restart.
    const db = createDb(embeddedDatabaseUrl(readEmbeddedPostgresInfo(dataDir)!))
    try {
      const [user] = await db('users').where({ username: admin.username }).select('id')
      const [plan] = await db('plans')
        .insert({ nameFa: 'آزمایشی', nameEn: 'Trial', days: 1, dataLimitBytes: 1, price: 1, agentPrice: 1 })
        .returning('id')
      await db('orders').insert({ userId: user.id, planId: plan.id, price: 1, status: 'delivered', deliveredAt: new Date() })
    } finally {
      await db.destroy()
    }
    expect(processesUsingDataDir(dataDir).length).toBeGreaterThan(0)

    ctrlC(run)
    // npm itself ends by the signal; the app's own clean exit shows in its log.
    expect([0, 'SIGINT']).toContain(await run.exited)
    expect(run.stdout()).toContain('"event":"stopped"')
    expect(run.stdout()).not.toContain('forced-exit')
    expect(run.stdout()).toContain('"event":"worker-stopped"')
    expect(run.stdout()).toContain('"event":"embedded-postgres-stopped"')
    expect(processesUsingDataDir(dataDir)).toEqual([])
  })

  it('starts again on the same data without a new admin, with a local redis-server when none answers and the bot when a token is set, and leaves nothing behind', async () => {
    const redisPort = await freePort('127.0.0.1')
    const run = await startProcess(
      dataDir,
      { REDIS_URL: `redis://127.0.0.1:${redisPort}`, TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot },
      'node',
    )
    const url = await waitFor('the banner', () => /flowpanel is running: (\S+)/.exec(run.stdout())?.[1], run, 180_000)
    expect(run.stdout()).not.toContain('First start')
    expect(run.stdout()).toContain('"event":"redis-started"')
    expect(run.stdout()).toContain('"event":"app-secret-loaded"')

    const ready = await fetch(`${url}/readyz`)
    expect(ready.status).toBe(200)
    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toMatch(/^flowpanel_orders\{status="delivered"\} 1$/m)
    expect((await signIn(url, admin.username, admin.password)).status).toBe(302)
    // No public https URL here, so the bot polls (the fake Bot API stands in for Telegram).
    expect(run.stdout()).toMatch(/"event":"bot-started","mode":"polling"/)
    await waitFor('the bot to poll', () => (telegram.calls.some((c) => c.method === 'getUpdates') ? true : undefined), run, 30_000)
    expect(run.stdout() + run.stderr()).not.toContain(telegram.token)

    ctrlC(run)
    expect(await run.exited).toBe(0)
    expect(run.stdout()).toContain('"event":"redis-stopped"')
    expect(processesUsingDataDir(dataDir)).toEqual([])
  })

  it('refuses to start, in one line with the fix, when the Temporal CLI it is pointed at is not there', async () => {
    const run = await startProcess(dataDir, { REDIS_URL: 'redis://127.0.0.1:6379', TEMPORAL_CLI_PATH: path.join(dataDir, 'no-such-temporal') })
    expect(await run.exited).toBe(1)
    const lines = run.stderr().split('\n').filter((l) => l.startsWith('flowpanel cannot start'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^flowpanel cannot start: TEMPORAL_CLI_PATH is \S+no-such-temporal but no executable is there; fix the path or unset it$/)
    expect(processesUsingDataDir(dataDir)).toEqual([])
  })

  it('refuses to start, in one line with the fix, when Redis cannot be reached or started', async () => {
    // 192.0.2.0/24 is reserved for documentation: nothing answers there, and it is not this machine.
    const run = await startProcess(dataDir, { REDIS_URL: 'redis://192.0.2.1:6379' })
    expect(await run.exited).toBe(1)
    const lines = run.stderr().split('\n').filter((l) => l.startsWith('flowpanel cannot start'))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^flowpanel cannot start: Redis is not reachable at redis:\/\/192\.0\.2\.1:6379 .*point REDIS_URL at one that runs\.$/)
    expect(processesUsingDataDir(dataDir)).toEqual([])
  })
})
