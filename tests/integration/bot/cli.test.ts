import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { linkTelegramByCode } from '#db/telegram.ts'
import { createUser } from '#db/users.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { startFakeTelegram, type FakeTelegram } from '#tests/fakes/telegram.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')

/** Runs the real CLI with only the environment given here. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'bin/flowpanel.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', APP_SECRET: 'cli-test-secret-cli-test-secret-0123456789', ...env },
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

let database: Awaited<ReturnType<typeof createTestDatabase>>
let tg: FakeTelegram
let env: Record<string, string>

beforeAll(async () => {
  database = await createTestDatabase('bot_cli')
  tg = await startFakeTelegram()
  env = {
    DATABASE_URL: database.url,
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_WEBHOOK_SECRET: 'cli_secret_123',
    PUBLIC_URL: 'https://vpn.example.com',
  }
})
afterAll(async () => {
  await tg?.close()
  await database?.drop()
})

describe('bot commands of the CLI', () => {
  test('bot link-code prints a code the bot accepts once', async () => {
    const user = await createUser(database.db, { username: 'cli_user', password: 'cli-user-password', role: 'agent' })
    const run = await cli(['bot', 'link-code', '--user', 'cli_user'], env)
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const code = /: ([A-Z2-9]{4}-[A-Z2-9]{4}) /.exec(run.stdout)?.[1]
    expect(code).toBeDefined()
    expect(await linkTelegramByCode(database.db, { code: code!, telegramId: '5551' })).toMatchObject({ ok: true, user: { id: user.id } })
    const missing = await cli(['bot', 'link-code', '--user', 'nobody'], env)
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toContain('no user "nobody"')
  })

  test('bot webhook set, info and delete talk to the Bot API and never print the token', async () => {
    const set = await cli(['bot', 'webhook', 'set'], env)
    expect(set.code).toBe(0)
    expect(set.stdout).toContain('webhook set: https://vpn.example.com/telegram/webhook')
    expect(tg.webhook).toEqual({ url: 'https://vpn.example.com/telegram/webhook', secretToken: 'cli_secret_123' })
    const info = await cli(['bot', 'webhook', 'info'], env)
    expect(info.stdout).toContain('webhook: https://vpn.example.com/telegram/webhook')
    const del = await cli(['bot', 'webhook', 'delete'], env)
    expect(del.code).toBe(0)
    expect(tg.webhook).toBeNull()
    for (const run of [set, info, del]) expect(run.stdout + run.stderr).not.toContain(tg.token)
  })
})
