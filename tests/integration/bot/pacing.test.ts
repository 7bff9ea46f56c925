import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createTelegramPacer, pacedTelegramSender, withTelegramPacing, isPacedSender } from '#activities/broadcast.ts'
import { createTelegramSender, TelegramError } from '#activities/telegram.ts'
import { envWithDefaults } from '#config/env.ts'
import { startFakeTelegram, type FakeTelegram } from '#tests/fakes/telegram.ts'

let tg: FakeTelegram
let redis: Redis

beforeAll(async () => {
  tg = await startFakeTelegram()
  redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  // Times are read where the fake receives the calls: open the connections first, so the first call is not late.
  const warm = createTelegramSender({ token: tg.token, apiRoot: tg.apiRoot })
  await Promise.all(Array.from({ length: 4 }, (_, i) => warm.sendMessage({ chatId: String(7600 + i), text: 'warm-up' })))
})
afterAll(async () => {
  await tg?.close()
  redis?.disconnect()
})

function sender(options: { perSecond: number; perChatIntervalMs?: number }) {
  const pacer = createTelegramPacer(redis, `fp:test:${randomUUID()}:telegram:`, { perChatIntervalMs: 1000, groupIntervalMs: 3000, ...options })
  return pacedTelegramSender(createTelegramSender({ token: tg.token, apiRoot: tg.apiRoot }), pacer)
}

const at = (chatId: string) => tg.calls.filter((c) => c.method === 'sendMessage' && String(c.params.chat_id) === chatId).map((c) => c.at)

/**
 * The fake sees when requests arrive, not when the sender let them go: on a loaded machine one request can arrive up to
 * a few hundred milliseconds late, which shortens the gap to the next one. Unpaced, the gaps would be near zero.
 */
const ARRIVAL_JITTER_MS = 200

describe('notifications keep to Telegram limits', () => {
  test('one private chat gets at most a message a second, a group one every three seconds', async () => {
    const s = sender({ perSecond: 25 })
    await Promise.all([1, 2, 3].map((n) => s.sendMessage({ chatId: '7701', text: `n${n}` })))
    await Promise.all([1, 2].map((n) => s.sendMessage({ chatId: '-1007702', text: `g${n}` })))
    const privateTimes = at('7701')
    expect(privateTimes).toHaveLength(3)
    expect(privateTimes[1]! - privateTimes[0]!).toBeGreaterThanOrEqual(1000 - ARRIVAL_JITTER_MS)
    expect(privateTimes[2]! - privateTimes[1]!).toBeGreaterThanOrEqual(1000 - ARRIVAL_JITTER_MS)
    const groupTimes = at('-1007702')
    expect(groupTimes[1]! - groupTimes[0]!).toBeGreaterThanOrEqual(3000 - ARRIVAL_JITTER_MS)
  })

  test('many chats share the global rate', async () => {
    const s = sender({ perSecond: 10 })
    const started = Date.now()
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.sendMessage({ chatId: String(7800 + i), text: 'hi' })))
    expect(Date.now() - started).toBeGreaterThanOrEqual(1800)
    const times = Array.from({ length: 20 }, (_, i) => at(String(7800 + i))[0]!).sort((a, b) => a - b)
    for (let i = 10; i < times.length; i++) expect(times[i]! - times[i - 10]!).toBeGreaterThanOrEqual(1000 - ARRIVAL_JITTER_MS)
  })

  test('a 429 holds every sender back for retry_after, and the error still reaches the caller', async () => {
    const s = sender({ perSecond: 50 })
    tg.floodNext(1, 2, (_m, p) => p.chat_id === '7901')
    await expect(s.sendMessage({ chatId: '7901', text: 'x' })).rejects.toMatchObject({ status: 429, retryAfterMs: 2000 })
    const flooded = tg.floodAnswers.at(-1)!.at
    await s.sendMessage({ chatId: '7902', text: 'after' })
    expect(at('7902')[0]! - flooded).toBeGreaterThanOrEqual(1950)
    expect(TelegramError).toBeDefined()
  })

  test('the activities get a paced sender once; the broadcast unwraps it to pace at its own rate', () => {
    const env = envWithDefaults({ TELEGRAM_BOT_TOKEN: '123456:abc', TELEGRAM_API_ROOT: tg.apiRoot })
    const deps = { env, redis, telegram: createTelegramSender({ token: env.TELEGRAM_BOT_TOKEN, apiRoot: env.TELEGRAM_API_ROOT }) }
    const paced = withTelegramPacing(deps)
    expect(isPacedSender(paced.telegram)).toBe(true)
    expect(withTelegramPacing(paced)).toBe(paced)
    expect(isPacedSender(deps.telegram)).toBe(false)
  })
})
