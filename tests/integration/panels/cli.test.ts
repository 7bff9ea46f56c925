import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '#db/knex.ts'
import { startFakeMarzban, type FakeMarzban } from '#tests/fakes/marzban.ts'
import { startFakeXui, type FakeXui } from '#tests/fakes/3x-ui.ts'
import { cliInProcess } from '#tests/setup/cli.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { REDIS_URL } from './helpers.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const APP_SECRET = 'panel-cli-secret-panel-cli-secret-0123'
const MARZBAN_PASSWORD = 'marzban-cli-password-42'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

let db: Db
let drop: () => Promise<void>
let env: Record<string, string>
let marzban: FakeMarzban
let xui: FakeXui

/** Runs the real CLI (`npx tsx bin/flowpanel.ts panel …`) with only the environment given here. */
function cli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'bin/flowpanel.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr: stderr.replace(/^npm warn .*\n/gm, '') }))
  })
}

/** The same command line run in this process: for the tests about what a command does, not about the entry point. */
function cliHere(args: string[]): Promise<Run> {
  return cliInProcess(args, env)
}

beforeAll(async () => {
  const test = await createTestDatabase('panel_cli')
  db = test.db
  drop = test.drop
  env = { DATABASE_URL: test.url, APP_SECRET, REDIS_URL }
  marzban = await startFakeMarzban({ admins: [{ username: 'admin', password: MARZBAN_PASSWORD, sudo: true }] })
  xui = await startFakeXui({ basePath: '/p4nel/' })
})

afterAll(async () => {
  await Promise.all([marzban.close(), xui.close()])
  await drop()
})

describe('panel CLI', () => {
  it('adds a Marzban panel, checks it healthy, lists and syncs it; a stopped panel is unreachable', async () => {
    const added = await cli(['panel', 'add', '--type', 'marzban', '--name', 'de-1', '--url', marzban.url, '--username', 'admin', '--password', MARZBAN_PASSWORD, '--location', 'de', '--capacity', '300'])
    expect(added.stderr).toBe('')
    expect(added.code).toBe(0)
    expect(added.stdout).toContain('location "de" created')
    expect(added.stdout).toMatch(/panel "de-1" added \(id \d+, marzban, .*capacity 300\)/)
    expect(added.stdout).not.toContain(MARZBAN_PASSWORD)
    const row = await db('panels').where({ name: 'de-1' }).first()
    expect(row.credentialsEncrypted).not.toContain(MARZBAN_PASSWORD)

    const healthy = await cli(['panel', 'check', 'de-1'])
    expect(healthy.stderr).toBe('')
    expect(healthy.code).toBe(0)
    expect(healthy.stdout).toMatch(/^de-1: healthy \(marzban 0\.8\.4; ok in \d+ ms/)
    expect(await db('panels').where({ name: 'de-1' }).first()).toMatchObject({ healthStatus: 'healthy', version: '0.8.4' })

    const listed = await cli(['panel', 'list'])
    expect(listed.code).toBe(0)
    expect(listed.stdout).toMatch(/de-1\s+marzban\s+http:\/\/127\.0\.0\.1:\d+\/\s+de\s+0\/300\s+healthy\s+0\.8\.4/)

    marzban.seedUser({ username: 'walkin', note: null })
    const synced = await cli(['panel', 'sync', 'de-1'])
    expect(synced.code).toBe(0)
    expect(synced.stdout).toContain('extra on the panel (1):')
    expect(synced.stdout).toMatch(/walkin\s+active, not made by flowpanel/)
    expect(synced.stdout).toContain('nothing was changed')
    expect(marzban.user('walkin')).toBeDefined()

    await marzban.close()
    const down = await cli(['panel', 'check', 'de-1'])
    expect(down.code).not.toBe(0)
    expect(down.stdout).toContain(`de-1: unreachable: ${marzban.url}/`)
    expect(await db('panels').where({ name: 'de-1' }).first()).toMatchObject({ healthStatus: 'down' })
  })

  it('logs in before saving: a wrong password saves nothing unless --save-anyway, and a good panel is healthy from the start', async () => {
    marzban = await startFakeMarzban({ admins: [{ username: 'admin', password: MARZBAN_PASSWORD, sudo: true }] })
    const flags = ['--type', 'marzban', '--url', marzban.url, '--username', 'admin', '--location', 'fr']
    const refused = await cliHere(['panel', 'add', '--name', 'fr-1', ...flags, '--password', 'not-the-password'])
    expect(refused.code).toBe(1)
    expect(refused.stdout).toContain('panel "fr-1" was not saved: Marzban panel')
    expect(refused.stdout).toContain('rejected the admin username or password. Fix the flags, or add --save-anyway to save it as it is.')
    expect(await db('panels').where({ name: 'fr-1' }).first()).toBeUndefined()

    const anyway = await cliHere(['panel', 'add', '--name', 'fr-1', ...flags, '--password', 'not-the-password', '--save-anyway'])
    expect(anyway.code).toBe(0)
    expect(anyway.stdout).toContain('fr-1: not working:')
    expect(anyway.stdout).toContain('saved anyway: it gets no new accounts until `panel check fr-1` passes')
    expect(await db('panels').where({ name: 'fr-1' }).first()).toMatchObject({ healthStatus: 'degraded' })

    const good = await cliHere(['panel', 'add', '--name', 'fr-2', ...flags, '--password', MARZBAN_PASSWORD])
    expect(good.code).toBe(0)
    expect(good.stdout).toMatch(/fr-2: healthy \(marzban 0\.8\.4;/)
    const row = await db('panels').where({ name: 'fr-2' }).first()
    expect(row).toMatchObject({ healthStatus: 'healthy', version: '0.8.4' })
    expect(row.healthCheckedAt).toBeInstanceOf(Date)
  })

  it('adds and checks a 3X-UI panel on a web base path', async () => {
    const added = await cliHere(['panel', 'add', '--type', '3x-ui', '--name', 'nl-1', '--url', xui.url, '--username', 'admin', '--password', 'admin', '--inbound', '1', '--location', 'nl'])
    expect(added.stderr).toBe('')
    expect(added.code).toBe(0)
    const checked = await cliHere(['panel', 'check', 'nl-1'])
    expect(checked.code).toBe(0)
    expect(checked.stdout).toMatch(/^nl-1: healthy \(3x-ui 2\.x, xray 25\.10\.15;/)
  })

  it('explains bad input and unknown panels', async () => {
    const noInbound = await cliHere(['panel', 'add', '--type', '3x-ui', '--name', 'x', '--url', xui.url, '--username', 'a', '--password', 'b'])
    expect(noInbound.code).toBe(2)
    expect(noInbound.stderr).toContain('3x-ui panels need --inbound <id>')
    const badType = await cliHere(['panel', 'add', '--type', 'hiddify', '--name', 'x', '--url', xui.url, '--username', 'a', '--password', 'b'])
    expect(badType.code).toBe(2)
    expect(badType.stderr).toContain('--type must be marzban or 3x-ui')
    const unknown = await cliHere(['panel', 'check', 'nowhere'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no panel named "nowhere"')
  })
})
