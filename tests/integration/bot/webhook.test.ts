import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { envWithDefaults, type Env } from '#config/env.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { startFakeTelegram, type FakeTelegram } from '#tests/fakes/telegram.ts'
import { createLogger } from '../../../bot/logger.ts'
import { botMode, createBotWebhook, type BotWebhook } from '../../../bot/serve.ts'
import { SECRET_HEADER } from '../../../bot/webhook.ts'
import { freePort } from '../../../bin/start/processes.ts'
import { startWebServer, type WebServer } from '../../../web/server.ts'

/**
 * The bot by webhook inside the real web server: Telegram (the fake) posts updates to /telegram/webhook with the
 * secret token; the same handlers as long polling answer them. Temporal is away here on purpose.
 */
let database: Awaited<ReturnType<typeof createTestDatabase>>
let tg: FakeTelegram
let redis: Redis
let env: Env
let hook: BotWebhook
let web: WebServer
let webhookUrl: string
const SECRET = `wh_${randomUUID().replace(/-/g, '')}`
const problems: string[] = []

beforeAll(async () => {
  database = await createTestDatabase('bot_webhook')
  tg = await startFakeTelegram()
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  const port = await freePort('127.0.0.1')
  env = envWithDefaults({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    TEMPORAL_ADDRESS: '',
    TELEGRAM_BOT_TOKEN: tg.token,
    TELEGRAM_API_ROOT: tg.apiRoot,
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    TELEGRAM_ADMIN_CHAT_IDS: '',
    DEFAULT_LOCALE: 'fa',
  })
  const [location] = await database.db('locations').insert({ code: 'nl', nameFa: 'هلند', nameEn: 'Netherlands' }).returning('id')
  const [plan] = await database.db('plans').insert({ nameFa: 'ماهانه', nameEn: 'Monthly', days: 30, dataLimitBytes: String(50 * 1024 ** 3), price: '90000', agentPrice: '70000' }).returning('id')
  await database.db('planLocations').insert({ planId: plan.id, locationId: location.id })

  hook = await createBotWebhook({
    env,
    db: database.db,
    redis,
    temporal: {
      getClient: async () => {
        throw new Error('Cannot reach the Temporal server at 127.0.0.1:1: connection refused')
      },
    },
    logger: createLogger({ level: 'warn', write: (line) => problems.push(line) }),
  })
  web = await startWebServer({ env, db: database.db, redis, port, host: '127.0.0.1', mode: 'development', optimizeClientDeps: false, mountRoutes: (app) => hook.mountRoutes(app) })
  await hook.register()
  webhookUrl = `${env.PUBLIC_URL}/telegram/webhook`
})

afterAll(async () => {
  await hook?.stop()
  await web?.close()
  await tg?.close()
  redis?.disconnect()
  await database?.drop()
})

function post(body: unknown, headers: Record<string, string> = {}) {
  return fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
}

describe('the bot by webhook in the web server', () => {
  test('polling is chosen without a public https URL, the webhook with one', () => {
    expect(botMode(env)).toBe('polling')
    expect(botMode({ ...env, PUBLIC_URL: 'https://vpn.example.com' })).toBe('webhook')
    expect(botMode({ ...env, TELEGRAM_BOT_TOKEN: undefined })).toBe('off')
  })

  test('Telegram is told the URL and the secret, and the command menus in both languages', () => {
    expect(tg.webhook).toEqual({ url: webhookUrl, secretToken: SECRET })
    const menus = tg.calls.filter((c) => c.method === 'setMyCommands')
    expect(menus.map((c) => c.params.language_code ?? 'default')).toEqual(['default', 'en'])
    expect(JSON.stringify(menus[0]!.params.commands)).toContain('خرید اکانت')
    expect(JSON.stringify(menus[1]!.params.commands)).toContain('Buy an account')
  })

  test('an update with the secret is handled by the same handlers as long polling', async () => {
    const person = tg.person(8101, { firstName: 'Sina', languageCode: 'fa' })
    expect(await tg.sendText(person, '/start')).toBe(200)
    const welcome = tg.messages(8101).find((m) => m.text.includes('خوش آمدید'))
    expect(welcome).toBeDefined()
    expect(await database.db('users').where({ telegramId: '8101' }).first()).toMatchObject({ role: 'customer', locale: 'fa' })
  })

  test('a request without the secret, or with a wrong one, is refused before any handler runs', async () => {
    const update = { update_id: 990001, message: { message_id: 1, date: 0, chat: { id: 8102, type: 'private' }, from: { id: 8102, is_bot: false, first_name: 'X' }, text: '/start', entities: [{ type: 'bot_command', offset: 0, length: 6 }] } }
    expect((await post(update)).status).toBe(401)
    expect((await post(update, { [SECRET_HEADER]: `${SECRET}x` })).status).toBe(401)
    expect((await post(update, { [SECRET_HEADER]: SECRET.slice(0, -1) })).status).toBe(401)
    expect(tg.messages(8102)).toEqual([])
    expect(await database.db('users').where({ telegramId: '8102' }).first()).toBeUndefined()
    expect(problems.filter((p) => p.includes('webhook-refused'))).toHaveLength(3)
    expect(problems.join('\n')).not.toContain(SECRET)
  })

  test('something that is not an update is a 400; the same update delivered twice is handled once', async () => {
    expect((await post('{"hello":', { [SECRET_HEADER]: SECRET })).status).toBe(400)
    expect((await post({ hello: 'world' }, { [SECRET_HEADER]: SECRET })).status).toBe(400)
    const update = { update_id: 990002, message: { message_id: 2, date: 0, chat: { id: 8103, type: 'private' }, from: { id: 8103, is_bot: false, first_name: 'Twice' }, text: '/start', entities: [{ type: 'bot_command', offset: 0, length: 6 }] } }
    const [a, b] = await Promise.all([post(update, { [SECRET_HEADER]: SECRET }), post(update, { [SECRET_HEADER]: SECRET })])
    expect([a.status, b.status]).toEqual([200, 200])
    await new Promise((r) => setTimeout(r, 300))
    expect(tg.messages(8103)).toHaveLength(1)
  })

  test('with Temporal away, paying says to try again in a minute and places nothing', async () => {
    const person = tg.person(8101, { firstName: 'Sina', languageCode: 'fa' })
    await tg.sendText(person, '/buy')
    const menu = tg.messages(8101).find((m) => m.text.includes('لوکیشن'))!
    const location = await database.db('locations').first('id')
    const plan = await database.db('plans').first('id')
    await tg.press(person, menu, `buy:l:${location.id}`)
    expect(tg.buttons(menu)[0]!.text).toContain('۹۰٬۰۰۰ تومان')
    await tg.press(person, menu, `buy:p:${location.id}:${plan.id}`)
    await tg.press(person, menu, `buy:p:${location.id}:${plan.id}:w`)
    expect(tg.messages(8101).at(-1)!.text).toContain('سرویس در حال حاضر مشغول است')
    expect(await database.db('orders')).toEqual([])
  })
})
