import { ApplicationFailure } from '@temporalio/common'
import { log } from '@temporalio/activity'
import { adminChatIds, claimNotification, markNotificationSent, markNotificationSkipped, recordNotificationError } from '#db/notifications.ts'
import type { ResolvedDeps } from './deps.ts'
import { renderNotification, type NotificationMessage } from './notification-texts.ts'
import { TelegramError } from './telegram.ts'
import { lastStatusKey, statusChannel } from '#config/redis-names.ts'

export { lastStatusKey, statusChannel } from '#config/redis-names.ts'

export interface NotifyUserInput {
  /** Business key, e.g. `order-12:delivered`. One message per key and chat, ever. */
  key: string
  userId: number
  message: NotificationMessage
}

export interface NotifyAdminsInput {
  key: string
  message: NotificationMessage
}

export interface NotifyResult {
  sent: number
  alreadySent: number
  skipped: number
}

type SendOutcome = 'sent' | 'already_sent' | 'skipped'

/**
 * Sends one Telegram message at most once per key (see db/notifications.ts for the at-least-once trade-off).
 * Permanent refusals (blocked bot, unknown chat) and a missing bot token are recorded as skipped; flood control
 * retries after Telegram's `retry_after`; other failures retry with the activity's backoff.
 */
async function sendOnce(deps: ResolvedDeps, input: { key: string; chatId: string; kind: string; message: NotificationMessage; locale: 'fa' | 'en' }): Promise<SendOutcome> {
  const claim = await claimNotification(deps.db, { key: input.key, kind: input.kind, chatId: input.chatId })
  if (!claim.send) return claim.state === 'sent' ? 'already_sent' : 'skipped'
  if (!deps.telegram.enabled) {
    await markNotificationSkipped(deps.db, input.key, 'no Telegram bot token configured')
    return 'skipped'
  }
  const rendered = renderNotification(input.message, input.locale, deps.env.CURRENCY)
  try {
    const { messageId } = await deps.telegram.sendMessage({ chatId: input.chatId, text: rendered.text, buttons: rendered.buttons })
    await markNotificationSent(deps.db, input.key, messageId)
    return 'sent'
  } catch (error) {
    if (!(error instanceof TelegramError)) throw error
    if (error.permanent) {
      log.warn('notification not deliverable', { key: input.key, reason: error.message })
      await markNotificationSkipped(deps.db, input.key, error.message)
      return 'skipped'
    }
    await recordNotificationError(deps.db, input.key, error.message)
    if (error.retryAfterMs !== null) {
      throw ApplicationFailure.create({ type: 'TelegramFloodControl', message: error.message, nextRetryDelay: error.retryAfterMs })
    }
    throw error
  }
}

function tally(outcomes: SendOutcome[]): NotifyResult {
  return {
    sent: outcomes.filter((o) => o === 'sent').length,
    alreadySent: outcomes.filter((o) => o === 'already_sent').length,
    skipped: outcomes.filter((o) => o === 'skipped').length,
  }
}

export function createNotificationActivities(deps: ResolvedDeps) {
  return {
    /** Tells a user on Telegram when they linked it; otherwise records the message as skipped (the web page shows it). */
    async notifyUser(input: NotifyUserInput): Promise<NotifyResult> {
      const user = await deps.db('users').where({ id: input.userId }).first('telegramId', 'locale')
      const key = `${input.key}:user:${input.userId}`
      if (!user?.telegramId) {
        const claim = await claimNotification(deps.db, { key, kind: input.message.kind, chatId: null })
        if (claim.send) await markNotificationSkipped(deps.db, key, 'user has no linked Telegram chat')
        return tally(['skipped'])
      }
      return tally([await sendOnce(deps, { key, chatId: String(user.telegramId), kind: input.message.kind, message: input.message, locale: user.locale ?? deps.env.DEFAULT_LOCALE })])
    },

    /** Tells every admin chat (configured ids and admins who linked Telegram); each chat gets the message once. */
    async notifyAdmins(input: NotifyAdminsInput): Promise<NotifyResult> {
      const chats = await adminChatIds(deps.db, deps.env.TELEGRAM_ADMIN_CHAT_IDS)
      const outcomes: SendOutcome[] = []
      let failure: unknown
      for (const chatId of chats) {
        try {
          outcomes.push(await sendOnce(deps, { key: `${input.key}:chat:${chatId}`, chatId, kind: input.message.kind, message: input.message, locale: deps.env.DEFAULT_LOCALE }))
        } catch (error) {
          // Try the other chats first; the retry skips the ones already sent.
          failure ??= error
        }
      }
      if (failure) throw failure
      return tally(outcomes)
    },

    /** Publishes a workflow's live status on Redis (the installation's `status:<workflowId>` channel) and keeps the last one for a day. */
    async publishStatus(input: { workflowId: string; status: unknown }): Promise<void> {
      await publish(deps, input.workflowId, input.status)
    },
  }
}

export async function publish(deps: Pick<ResolvedDeps, 'redis' | 'env'>, workflowId: string, status: unknown): Promise<void> {
  const json = JSON.stringify(status)
  await deps.redis.multi().set(lastStatusKey(deps.env, workflowId), json, 'EX', 86_400).publish(statusChannel(deps.env, workflowId), json).exec()
}
