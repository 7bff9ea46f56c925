import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createBot, type FlowpanelBot } from '../../../bot/index.ts'
import type { BotSettings } from '../../../bot/context.ts'
import { createLogger } from '../../../bot/logger.ts'
import { createUpdateDispatcher, startPolling, type Poller, type UpdateDispatcher } from '../../../bot/runtime.ts'
import { createUser } from '#db/users.ts'
import type { FakePerson, FakeTelegramMessage } from '#tests/fakes/telegram.ts'
import { startHarness, waitFor, type Harness, type HarnessOptions } from '../harness.ts'

/** A JPEG as a phone camera makes it (the magic bytes are what the receipt check reads), different every time. */
export function jpegBytes(): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]), randomBytes(2048), Buffer.from([0xff, 0xd9])])
}

export function pdfBytes(): Buffer {
  return Buffer.from(`%PDF-1.4\n% receipt ${randomUUID()}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`)
}

export const ADMIN_GROUP = -1009000

export interface BotWorld {
  h: Harness
  bot: FlowpanelBot
  dispatcher: UpdateDispatcher
  poller: Poller
  uploadDir: string
  cardMethodId: number
  /** Two admins who linked Telegram, and the admin group they sit in. */
  admins: { id: number; person: FakePerson; name: string }[]
  /** Warning and error log lines of the bot (JSON). */
  problems: string[]
  /** Waits for a message the bot sent to `chatId` that `match` accepts (real time). */
  waitForMessage(chatId: number | string, match: (m: FakeTelegramMessage, text: string) => boolean, what: string, timeoutMs?: number): Promise<FakeTelegramMessage>
  /** Waits until every update delivered so far has been handled. */
  settle(): Promise<void>
  stop(): Promise<void>
}

/**
 * The bot in front of the whole platform: the workflow harness (Temporal test server, real worker, Postgres, Redis,
 * fake panel, fake Bot API), one card-to-card payment method, two admins linked to Telegram, and the bot itself
 * talking to the fake Bot API by long polling.
 */
export async function startBotWorld(name: string, options: { harness?: HarnessOptions; settings?: Partial<Omit<BotSettings, 'redisPrefix'>> } = {}): Promise<BotWorld> {
  const uploadDir = await mkdtemp(path.join(tmpdir(), 'fp-bot-uploads-'))
  const h = await startHarness(name, {
    ...options.harness,
    env: { TELEGRAM_ADMIN_CHAT_IDS: String(ADMIN_GROUP), UPLOAD_DIR: uploadDir, DEFAULT_LOCALE: 'fa', ...options.harness?.env },
  })
  const [method] = await h.db('paymentMethods')
    .insert({ kind: 'CARD', titleFa: 'کارت به کارت', titleEn: 'Card to card', config: JSON.stringify({ cardNumber: '6037991234567890', holder: 'Ali Rezaei', bank: 'Melli' }) })
    .returning('id')
  const tg = h.telegram
  tg.group(ADMIN_GROUP, 'flowpanel admins')
  await h.db('users').where({ id: h.adminId }).update({ telegramId: '7001', displayName: 'Sara' })
  const second = await createUser(h.db, { username: 'admin2', password: 'admin2-password', role: 'admin', locale: 'en', telegramId: '7002', displayName: 'Reza' })
  const admins = [
    { id: h.adminId, person: tg.person(7001, { firstName: 'Sara', languageCode: 'en' }), name: 'Sara' },
    { id: second.id, person: tg.person(7002, { firstName: 'Reza', languageCode: 'en' }), name: 'Reza' },
  ]

  // A test clicks faster than people do: the rate limit is high unless a test is about it.
  // Warnings and errors of the bot show in the test output; a test that expects none can read `problems`.
  const problems: string[] = []
  const logger = createLogger({ level: 'warn', name: 'bot-test', write: (line) => problems.push(line) })
  const bot = createBot(
    tg.token,
    { env: h.appEnv, db: h.db, redis: h.redis, temporal: { getClient: async () => h.client }, logger, settings: { progressPollMs: 150, rateLimit: { limit: 1000, windowMs: 10_000 }, ...options.settings } },
  )
  await bot.init()
  const dispatcher = createUpdateDispatcher(bot, { redis: h.redis, redisPrefix: bot.deps.settings.redisPrefix, logger })
  const poller = startPolling(bot, dispatcher, { logger, timeoutSeconds: 1, retryMs: 100 })

  const world: BotWorld = {
    h,
    problems,
    bot,
    dispatcher,
    poller,
    uploadDir,
    cardMethodId: method.id,
    admins,
    waitForMessage(chatId, match, what, timeoutMs = 20_000) {
      return waitFor(what, () => tg.messages(chatId).find((m) => match(m, tg.lastText(m))), timeoutMs)
    },
    async settle() {
      await waitFor('the bot to take every update', () => tg.queued === 0)
      await dispatcher.idle()
    },
    async stop() {
      await poller.stop()
      await bot.services.progress.stop()
      await h.teardown()
      await rm(uploadDir, { recursive: true, force: true })
    },
  }
  return world
}
