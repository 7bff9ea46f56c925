import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db } from '#db/knex.ts'
import { adjustManual, submitPendingCharge } from '#db/ledger.ts'
import { findUserByUsername, verifyPassword } from '#db/users.ts'
import { cliInProcess } from '#tests/setup/cli.ts'
import { databaseExists, dropDatabase, unusedDatabaseUrl } from './empty-database.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
const APP_SECRET = 'cli-test-secret-cli-test-secret-0123456789'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs the real CLI (`npx tsx bin/flowpanel.ts …`) with only the environment given here: for the entry point itself
 * (a fresh database, configuration errors). What the commands do is tested in this process (`cliInProcess`).
 */
function cli(args: string[], env: Record<string, string>): Promise<Run> {
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

const target = unusedDatabaseUrl('cli')
const env = { DATABASE_URL: target.url, APP_SECRET }
let db: Db

beforeAll(async () => {
  db = createDb(target.url, { pool: { max: 2 } })
})
afterAll(async () => {
  await db.destroy()
  await dropDatabase(target.name)
})

describe('the flowpanel CLI', () => {
  it('db migrate creates a missing database and the whole schema', async () => {
    expect(await databaseExists(target.name)).toBe(false)
    const run = await cli(['db', 'migrate'], env)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/applied \d+ migration\(s\):/)
    expect(run.stdout).toContain('20261121000002_wallets_and_ledger.ts')
    const tables = await db.raw(`select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name in ('users', 'wallets', 'ledger_entries', 'orders', 'accounts', 'payments')`)
    expect(tables.rows[0].n).toBe(6)

    const again = await cli(['db', 'migrate'], env)
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('already up to date')
  })

  it('admin create makes an admin whose password verifies, and refuses a taken name', async () => {
    const run = await cliInProcess(['admin', 'create', '--username', 'root_admin', '--password', 'correct horse battery'], env)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/admin "root_admin" created \(user id \d+\)/)
    expect(run.stdout).not.toContain('correct horse')
    const user = await findUserByUsername(db, 'root_admin')
    expect(user?.role).toBe('admin')
    expect(await verifyPassword(user!.passwordHash!, 'correct horse battery')).toBe(true)

    const taken = await cliInProcess(['admin', 'create', '--username', 'ROOT_admin', '--password', 'another password'], env)
    expect(taken.code).toBe(2)
    expect(taken.stderr).toContain('Username "ROOT_admin" is already taken')
    const noPassword = await cliInProcess(['admin', 'create', '--username', 'x_admin'], env)
    expect(noPassword.code).toBe(2)
    expect(noPassword.stderr).toContain('--password is required')
    const common = await cliInProcess(['admin', 'create', '--username', 'weak_admin', '--password', 'password123'], env)
    expect(common.code).toBe(2)
    expect(common.stderr).toContain('Password is on a list of common passwords; choose another')
    const short = await cliInProcess(['admin', 'create', '--username', 'weak_admin', '--password', 'ninechars'], env)
    expect(short.code).toBe(2)
    expect(short.stderr).toContain('Password must be at least 10 characters')
    expect(await findUserByUsername(db, 'weak_admin')).toBeUndefined()
  })

  it('admin reset-password gives a user a new password, ends their sessions and can turn two-step off', async () => {
    const user = (await findUserByUsername(db, 'root_admin'))!
    await db('sessions').insert({ id: 'cli-reset-session', userId: user.id, expiresAt: new Date(Date.now() + 86_400_000), twoFactorVerified: true })
    await db('users').where({ id: user.id }).update({ totpEnabled: true, totpSecretEncrypted: 'v1:sealed' })

    const generated = await cliInProcess(['admin', 'reset-password', '--username', 'ROOT_ADMIN'], env)
    expect(generated.stderr).toBe('')
    expect(generated.code).toBe(0)
    const password = /new password: (\S+)/.exec(generated.stdout)?.[1]
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(generated.stdout).toContain('password of admin "root_admin" reset; its 1 session(s) were signed out')
    expect(generated.stdout).toContain('two-step verification is still on (add --reset-2fa to turn it off)')
    let row = (await findUserByUsername(db, 'root_admin'))!
    expect(await verifyPassword(row.passwordHash!, password!)).toBe(true)
    expect(await verifyPassword(row.passwordHash!, 'correct horse battery')).toBe(false)
    expect(await db('sessions').where({ userId: user.id })).toHaveLength(0)
    expect(await db('auditLog').where({ action: 'auth.password_reset', targetId: String(user.id) })).toHaveLength(1)

    const chosen = await cliInProcess(['admin', 'reset-password', '--username', 'root_admin', '--password', 'a chosen new password', '--reset-2fa'], env)
    expect(chosen.code).toBe(0)
    expect(chosen.stdout).not.toContain('a chosen new password')
    expect(chosen.stdout).toContain('two-step verification turned off')
    row = (await findUserByUsername(db, 'root_admin'))!
    expect(await verifyPassword(row.passwordHash!, 'a chosen new password')).toBe(true)
    expect(row).toMatchObject({ totpEnabled: false, totpSecretEncrypted: null })

    const weak = await cliInProcess(['admin', 'reset-password', '--username', 'root_admin', '--password', '1234567890'], env)
    expect(weak.code).toBe(2)
    expect(weak.stderr).toContain('Password is on a list of common passwords')
    const nobody = await cliInProcess(['admin', 'reset-password', '--username', 'nobody_here'], env)
    expect(nobody.code).toBe(2)
    expect(nobody.stderr).toContain('no user named "nobody_here"')
    expect(await verifyPassword((await findUserByUsername(db, 'root_admin'))!.passwordHash!, 'a chosen new password')).toBe(true)
  })

  it('ledger check passes on a consistent ledger and fails, naming the wallet, after a balance is changed with raw SQL', async () => {
    const admin = await findUserByUsername(db, 'root_admin')
    await submitPendingCharge(db, { userId: admin!.id, amount: 500n, paymentId: 1, idempotencyKey: 'cli-pending' })
    await adjustManual(db, { userId: admin!.id, amount: 100n, note: 'cli test', actorUserId: admin!.id, idempotencyKey: 'cli-manual' })

    const ok = await cliInProcess(['ledger', 'check'], env)
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('ledger ok: 1 wallet(s) checked')

    await db.raw('update wallets set confirmed = confirmed + 1')
    const broken = await cliInProcess(['ledger', 'check'], env)
    expect(broken.code).toBe(1)
    expect(broken.stderr).toContain('ledger check FAILED: 1 problem(s) in 1 wallet(s) checked')
    expect(broken.stderr).toContain(`wallet of user ${admin!.id} (root_admin): confirmed balance is 101 but its ledger entries add up to 100 (off by +1)`)
  })

  it('says clearly when DATABASE_URL is missing, and lists every configuration problem', async () => {
    const missing = await cli(['ledger', 'check'], { APP_SECRET })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain('DATABASE_URL is not set: `ledger check` needs the database to work on.')

    const bad = await cli(['db', 'migrate'], { DATABASE_URL: 'nonsense' })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('the configuration has 2 problem(s)')
    expect(bad.stderr).toContain('APP_SECRET: is required')
    expect(bad.stderr).toContain('DATABASE_URL: DATABASE_URL must be a URL')
  })
})
