import { Context } from '@temporalio/activity'
import { ApplicationFailure } from '@temporalio/common'
import type { Redis } from 'ioredis'
import type { Env } from '#config/env.ts'
import { redisNames } from '#config/redis-names.ts'
import type { Db } from '#db/knex.ts'
import { claimNotification, markNotificationSent, markNotificationSkipped, recordNotificationError } from '#db/notifications.ts'
import {
  claimBroadcastRecipient,
  countBroadcastRecipients,
  finishBroadcast,
  getBroadcast,
  listPendingBroadcastRecipients,
  markBroadcastRecipient,
  prepareBroadcastRecipients,
  type BroadcastCounts,
} from '#db/telegram.ts'
import { classifySendFailure, MAX_FLOOD_WAITS_PER_MESSAGE } from '#workflows/broadcast/rules.ts'
import { getMessages } from '../bot/i18n/index.ts'
import { toPlainText } from '../bot/i18n/html.ts'
import { TelegramError, type TelegramSender } from './telegram.ts'

/**
 * Pacing shared by every process that sends through the bot (Redis keeps the schedule): a global rate under
 * Telegram's ~30 messages per second, at most one message per second to a private chat and one per three seconds
 * to a group, and a pause for everyone when Telegram answers 429 with `retry_after`.
 */
export interface PacingOptions {
  perSecond: number
  perChatIntervalMs: number
  groupIntervalMs: number
}

export const DEFAULT_PACING: PacingOptions = { perSecond: 25, perChatIntervalMs: 1_000, groupIntervalMs: 3_000 }

/** The schedule every process of one bot in one installation shares: keyed by the bot's id (public), never its token. */
export function pacingScope(env: Pick<Env, 'TELEGRAM_BOT_TOKEN' | 'REDIS_PREFIX'>): string {
  const botId = /^(\d+):/.exec(env.TELEGRAM_BOT_TOKEN ?? '')?.[1] ?? 'nobot'
  return redisNames(env).scope('telegram', botId)
}

/** Reserves the next free slot on a schedule key and returns how long to wait for it (ms). */
const RESERVE = `
local now = tonumber(ARGV[1])
local step = tonumber(ARGV[2])
local nextAt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextAt < now then nextAt = now end
redis.call('SET', KEYS[1], tostring(nextAt + step), 'PX', math.max(60000, nextAt + step - now + 1000))
return nextAt - now
`

/** Moves a schedule key to at least `until` (nobody sends before it). */
const HOLD = `
local untilAt = tonumber(ARGV[1])
local nextAt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nextAt < untilAt then redis.call('SET', KEYS[1], tostring(untilAt), 'PX', math.max(60000, untilAt - tonumber(ARGV[2]) + 1000)) end
return 0
`

export interface TelegramPacer {
  /** How long to wait before sending to `chatId` (the slot is reserved). */
  reserve(chatId: string): Promise<number>
  /** Flood control: nobody sends for `ms`. */
  pauseAll(ms: number): Promise<void>
  /** How long flood control still holds everyone back (ms); checked right before each send. */
  pausedFor(): Promise<number>
}

/** `scope` is where the schedule lives in Redis (`pacingScope(env)`); keys are appended to it. */
export function createTelegramPacer(redis: Redis, scope: string, options: Partial<PacingOptions> = {}): TelegramPacer {
  const o = { ...DEFAULT_PACING, ...options }
  const step = Math.max(1, Math.floor(1000 / o.perSecond))
  const globalKey = `${scope}pace:global`
  const pauseKey = `${scope}pace:pause`
  return {
    async reserve(chatId) {
      const now = Date.now()
      const interval = chatId.startsWith('-') ? o.groupIntervalMs : o.perChatIntervalMs
      const [global, chat] = await Promise.all([
        redis.eval(RESERVE, 1, globalKey, now, step),
        redis.eval(RESERVE, 1, `${scope}pace:chat:${chatId}`, now, interval),
      ])
      return Math.max(Number(global), Number(chat))
    },
    async pauseAll(ms) {
      const now = Date.now()
      await Promise.all([redis.eval(HOLD, 1, globalKey, now + ms, now), redis.eval(HOLD, 1, pauseKey, now + ms, now)])
    },
    async pausedFor() {
      const until = Number((await redis.get(pauseKey)) ?? 0)
      return Math.max(0, until - Date.now())
    },
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** A sender that waits for its slot on the shared schedule, and makes every sender pause when Telegram answers 429. */
export interface PacedTelegramSender extends TelegramSender {
  readonly pacer: TelegramPacer
  /** The sender underneath, for callers that pace themselves (the broadcast, with its own rate). */
  readonly unpaced: TelegramSender
}

export function isPacedSender(sender: TelegramSender): sender is PacedTelegramSender {
  return 'unpaced' in sender && 'pacer' in sender
}

export function pacedTelegramSender(sender: TelegramSender, pacer: TelegramPacer): PacedTelegramSender {
  return {
    get enabled() {
      return sender.enabled
    },
    pacer,
    unpaced: sender,
    async sendMessage(input) {
      for (;;) {
        const wait = await pacer.reserve(input.chatId)
        if (wait > 0) await sleep(wait)
        const paused = await pacer.pausedFor()
        if (paused === 0) break
        await sleep(paused)
      }
      try {
        return await sender.sendMessage(input)
      } catch (error) {
        if (error instanceof TelegramError && error.retryAfterMs !== null) await pacer.pauseAll(error.retryAfterMs)
        throw error
      }
    },
  }
}

/**
 * The activities' dependencies with a Telegram sender paced on the schedule every process of this bot shares
 * (keyed by the bot's id, which is public; never the token): notifications then keep to Telegram's per-chat and
 * global limits, and a 429 seen by one sender holds the others back too.
 */
export function withTelegramPacing<T extends { telegram: TelegramSender; redis: Redis; env: Pick<Env, 'TELEGRAM_BOT_TOKEN' | 'REDIS_PREFIX'> }>(deps: T, options: Partial<PacingOptions> = {}): T {
  if (isPacedSender(deps.telegram)) return deps
  const pacer = createTelegramPacer(deps.redis, pacingScope(deps.env), options)
  return { ...deps, telegram: pacedTelegramSender(deps.telegram, pacer) }
}

export interface BroadcastActivityDeps {
  db: Db
  redis: Redis
  env: Env
  telegram: TelegramSender
}

export interface BroadcastOptions {
  pacing?: Partial<PacingOptions>
  /** Recipients per activity call (one heartbeat per message in between). */
  batchSize?: number
  /** Sends in flight at once within a batch. */
  concurrency?: number
}

function activityContext(): Context | undefined {
  try {
    return Context.current()
  } catch {
    return undefined
  }
}

/** Sleeps in short steps, heartbeating, so a long flood-control wait does not look like a dead worker. */
async function waitWithHeartbeat(ms: number, details: unknown): Promise<void> {
  const ctx = activityContext()
  let left = ms
  while (left > 0) {
    const chunk = Math.min(left, 5_000)
    await new Promise((r) => setTimeout(r, chunk))
    left -= chunk
    ctx?.heartbeat(details)
  }
}

function toCountsJson(c: BroadcastCounts) {
  return { total: c.total, pending: c.pending, sending: c.sending, sent: c.sent, failed: c.failed }
}

export function createBroadcastActivities(deps: BroadcastActivityDeps, options: BroadcastOptions = {}) {
  const { db } = deps
  const pacer = createTelegramPacer(deps.redis, pacingScope(deps.env), options.pacing)
  // The broadcast paces itself (at its own rate, on the same schedule): never through a paced sender as well.
  const telegram = isPacedSender(deps.telegram) ? deps.telegram.unpaced : deps.telegram
  const batchSize = options.batchSize ?? 200
  const concurrency = Math.max(1, options.concurrency ?? 8)

  return {
    /** Fixes the recipients (once) and returns the counts. */
    async prepareBroadcast(input: { broadcastId: number }) {
      await prepareBroadcastRecipients(db, input.broadcastId)
      return toCountsJson(await countBroadcastRecipients(db, input.broadcastId))
    },

    /**
     * Sends the message to up to a batch of recipients not tried yet. Each recipient is claimed just before its
     * send, so a retried or concurrent attempt never sends to it again. 429 answers pause every sender for
     * `retry_after` and the same message is sent again (it was not delivered); a chat that cannot get it is
     * counted failed; Telegram being away puts the recipient back and fails the attempt, to be retried.
     */
    async sendBroadcastBatch(input: { broadcastId: number }) {
      const broadcast = await getBroadcast(db, input.broadcastId)
      if (!broadcast) throw ApplicationFailure.create({ type: 'NotFound', message: `Broadcast ${input.broadcastId} does not exist`, nonRetryable: true })
      const ctx = activityContext()
      const chatIds = await listPendingBroadcastRecipients(db, broadcast.id, batchSize)
      let done = 0
      const sendOne = async (chatId: string): Promise<void> => {
        if (!(await claimBroadcastRecipient(db, broadcast.id, chatId))) return
        if (!telegram.enabled) {
          await markBroadcastRecipient(db, broadcast.id, chatId, { status: 'failed', error: 'no Telegram bot token is configured' })
          return
        }
        let floods = 0
        for (;;) {
          const wait = await pacer.reserve(chatId)
          if (wait > 0) await waitWithHeartbeat(wait, { done })
          // Another sender may have hit flood control while this one waited for its slot.
          const paused = await pacer.pausedFor()
          if (paused > 0) {
            await waitWithHeartbeat(paused, { done })
            continue
          }
          try {
            const { messageId } = await telegram.sendMessage({ chatId, text: broadcast.text })
            await markBroadcastRecipient(db, broadcast.id, chatId, { status: 'sent', messageId })
            return
          } catch (error) {
            if (!(error instanceof TelegramError)) {
              await markBroadcastRecipient(db, broadcast.id, chatId, { status: 'pending', error: String(error) })
              throw error
            }
            const failure = classifySendFailure(error)
            if (failure.action === 'wait' && floods < MAX_FLOOD_WAITS_PER_MESSAGE) {
              floods++
              await pacer.pauseAll(failure.retryAfterMs)
              continue
            }
            if (failure.action === 'give_up') {
              await markBroadcastRecipient(db, broadcast.id, chatId, { status: 'failed', error: failure.reason })
              return
            }
            if (failure.action === 'unknown') {
              await markBroadcastRecipient(db, broadcast.id, chatId, { status: 'failed', error: `${failure.reason} (may have been delivered; not sent again)` })
              return
            }
            await markBroadcastRecipient(db, broadcast.id, chatId, { status: 'pending', error: error.message })
            throw ApplicationFailure.create({
              type: failure.action === 'wait' ? 'TelegramFloodControl' : 'TelegramUnavailable',
              message: `Broadcast ${broadcast.id} paused at chat ${chatId}: ${error.message}`,
              nextRetryDelay: failure.action === 'wait' ? failure.retryAfterMs : undefined,
            })
          }
        }
      }
      // A few sends in flight at once (a Bot API call takes ~100 ms); the shared pacer keeps the rate.
      let next = 0
      let failure: unknown
      const lane = async () => {
        while (failure === undefined && next < chatIds.length && !ctx?.cancellationSignal.aborted) {
          const chatId = chatIds[next++]!
          try {
            await sendOne(chatId)
            done++
            ctx?.heartbeat({ done })
          } catch (error) {
            failure ??= error
          }
        }
      }
      await Promise.all(Array.from({ length: Math.min(concurrency, chatIds.length) }, lane))
      if (failure !== undefined) throw failure
      return toCountsJson(await countBroadcastRecipients(db, broadcast.id))
    },

    async finishBroadcast(input: { broadcastId: number }) {
      return toCountsJson(await finishBroadcast(db, input.broadcastId))
    },

    /** Tells the admin who started the broadcast how it went, once. */
    async reportBroadcast(input: { broadcastId: number }): Promise<'sent' | 'already_sent' | 'skipped'> {
      const broadcast = await getBroadcast(db, input.broadcastId)
      if (!broadcast) return 'skipped'
      const admin = await db('users').where({ id: broadcast.createdBy }).first('telegramId', 'locale')
      const key = `broadcast-${broadcast.id}:report:user:${broadcast.createdBy}`
      const claim = await claimNotification(db, { key, kind: 'broadcast_report', chatId: admin?.telegramId ? String(admin.telegramId) : null })
      if (!claim.send) return claim.state === 'sent' ? 'already_sent' : 'skipped'
      if (!admin?.telegramId || !deps.telegram.enabled) {
        await markNotificationSkipped(db, key, 'the admin has no linked Telegram chat')
        return 'skipped'
      }
      const { t } = getMessages(admin.locale ?? deps.env.DEFAULT_LOCALE, deps.env.CURRENCY)
      const text = toPlainText(t.broadcastReport(broadcast.id, broadcast.delivered, broadcast.failed, broadcast.total))
      try {
        const { messageId } = await deps.telegram.sendMessage({ chatId: String(admin.telegramId), text })
        await markNotificationSent(db, key, messageId)
        return 'sent'
      } catch (error) {
        if (error instanceof TelegramError && error.permanent) {
          await markNotificationSkipped(db, key, error.message)
          return 'skipped'
        }
        await recordNotificationError(db, key, error instanceof Error ? error.message : String(error))
        throw error
      }
    },
  }
}

export type BroadcastActivities = ReturnType<typeof createBroadcastActivities>
