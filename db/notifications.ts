import type { Db } from './knex.ts'

/**
 * Send-once bookkeeping for Telegram messages. A key is claimed before sending and marked after. We accept the
 * at-least-once side: if a process dies between the Bot API call and `markNotificationSent`, the retry sends the
 * message again (a rare duplicate) rather than risk never sending it.
 */
export type NotificationState = 'sending' | 'sent' | 'skipped'

export interface ClaimResult {
  /** true: the caller should send now (first time, or a retry of an unfinished send). */
  send: boolean
  state: NotificationState
  attempts: number
}

export async function claimNotification(db: Db, input: { key: string; kind: string; chatId: string | null }): Promise<ClaimResult> {
  const inserted = await db('notificationsSent')
    .insert({ key: input.key, kind: input.kind, chatId: input.chatId, status: 'sending', attempts: 1 })
    .onConflict('key')
    .ignore()
    .returning(['status', 'attempts'])
  if (inserted.length > 0) return { send: true, state: 'sending', attempts: 1 }
  const [row] = await db('notificationsSent')
    .where({ key: input.key })
    .update({ attempts: db.raw('attempts + 1') }, ['status', 'attempts'])
  if (!row) throw new Error(`notification ${input.key} vanished while being claimed`)
  return { send: row.status === 'sending', state: row.status, attempts: row.attempts }
}

export async function markNotificationSent(db: Db, key: string, messageId: number | null): Promise<void> {
  await db('notificationsSent').where({ key }).update({ status: 'sent', messageId, sentAt: db.fn.now(), lastError: null })
}

export async function markNotificationSkipped(db: Db, key: string, why: string): Promise<void> {
  await db('notificationsSent').where({ key }).whereNot({ status: 'sent' }).update({ status: 'skipped', lastError: why })
}

export async function recordNotificationError(db: Db, key: string, error: string): Promise<void> {
  await db('notificationsSent').where({ key }).update({ lastError: error.slice(0, 500) })
}

export async function getNotification(db: Db, key: string): Promise<{ key: string; status: NotificationState; attempts: number; chatId: string | null } | undefined> {
  return db('notificationsSent').where({ key }).first('key', 'status', 'attempts', 'chatId')
}

/** Telegram chats of admins: the configured chat ids plus admins who linked Telegram. */
export async function adminChatIds(db: Db, configured: string[]): Promise<string[]> {
  const rows = await db('users').where({ role: 'admin', status: 'active' }).whereNotNull('telegramId').select('telegramId')
  return [...new Set([...configured, ...rows.map((r: { telegramId: string }) => String(r.telegramId))])]
}
