import { createHash, randomBytes, randomInt } from 'node:crypto'
import type { Client } from '@temporalio/client'
import { cleanForeignName, findTextProblem, TEXT_PROBLEM_MESSAGES } from '#domain/text.ts'
import { MAIN_TASK_QUEUE } from '#temporal/task-queues.ts'
import { WORKFLOW_TYPES } from '#temporal/messages.ts'
import { broadcastWorkflowId } from '#temporal/workflow-ids.ts'
import type { BroadcastInput } from '#workflows/broadcast/messages.ts'
import type { Db } from './knex.ts'
import type { Locale, Role, User } from './models.ts'

/**
 * Telegram accounts of users: who a Telegram id is, one-time codes that link a Telegram account to an existing
 * web account, the admin-chat copies of receipts, and broadcast bookkeeping.
 */

export async function findUserByTelegramId(db: Db, telegramId: string | number): Promise<User | undefined> {
  return db('users').where({ telegramId: String(telegramId) }).first()
}

export async function findUserById(db: Db, userId: number): Promise<User | undefined> {
  return db('users').where({ id: userId }).first()
}

export interface TelegramProfile {
  telegramId: string
  username?: string | undefined
  firstName?: string | undefined
  lastName?: string | undefined
  languageCode?: string | undefined
}

/** The locale for a first contact: Persian unless Telegram says the person uses English. */
export function localeFromTelegram(languageCode: string | undefined, fallback: Locale): Locale {
  if (!languageCode) return fallback
  if (languageCode.toLowerCase().startsWith('fa')) return 'fa'
  if (languageCode.toLowerCase().startsWith('en')) return 'en'
  return fallback
}

function displayNameOf(profile: TelegramProfile): string | null {
  // Telegram names are whatever the person typed: made safe to store and show, since they cannot be refused.
  const name = cleanForeignName([profile.firstName, profile.lastName].filter((p) => p && p.trim()).join(' '))
  return name === '' ? null : name.slice(0, 64)
}

/**
 * The user behind a Telegram account, created as a customer (with a wallet) on first contact. The username is
 * `tg<telegramId>`; a concurrent first contact from the same account finds the row the other one made.
 */
export async function ensureTelegramUser(db: Db, profile: TelegramProfile, defaultLocale: Locale): Promise<{ user: User; created: boolean }> {
  const existing = await findUserByTelegramId(db, profile.telegramId)
  if (existing) {
    const tgUsername = profile.username ?? null
    if (existing.telegramUsername !== tgUsername) {
      await db('users').where({ id: existing.id }).update({ telegramUsername: tgUsername, updatedAt: db.fn.now() })
      existing.telegramUsername = tgUsername
    }
    return { user: existing, created: false }
  }
  // `tg<id>`, unless someone on the web already took that name.
  const base = `tg${profile.telegramId}`.slice(0, 27)
  const taken = await db('users').whereRaw('lower(username) = lower(?)', [base]).first('id')
  const username = taken ? `${base}_${randomBytes(3).toString('hex').slice(0, 4)}` : base
  try {
    const user = await db.transaction(async (trx) => {
      const [row] = await trx('users')
        .insert({
          username,
          passwordHash: null,
          role: 'customer' satisfies Role,
          displayName: displayNameOf(profile),
          locale: localeFromTelegram(profile.languageCode, defaultLocale),
          telegramId: profile.telegramId,
          telegramUsername: profile.username ?? null,
        })
        .returning('*')
      await trx('wallets').insert({ userId: row.id })
      return row as User
    })
    return { user, created: true }
  } catch (error) {
    // Unique violation: another update from the same person created the user first.
    if ((error as { code?: string }).code === '23505') {
      const user = await findUserByTelegramId(db, profile.telegramId)
      if (user) return { user, created: false }
    }
    throw error
  }
}

export async function setUserLocale(db: Db, userId: number, locale: Locale): Promise<void> {
  await db('users').where({ id: userId }).update({ locale, updatedAt: db.fn.now() })
}

// ---- link codes -----------------------------------------------------------------------------------

/** No 0/O, 1/I/L: codes are read off a screen and typed on a phone. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789'
const CODE_LENGTH = 8
export const LINK_CODE_TTL_MS = 15 * 60_000

function hashCode(normalized: string): string {
  return createHash('sha256').update(`flowpanel-telegram-link:${normalized}`).digest('hex')
}

/** Accepts what people type: any case, spaces or dashes, Persian or Arabic digits. */
export function normalizeLinkCode(text: string): string {
  return text
    .replace(/[۰-۹]/g, (d) => String('۰۱۲۳۴۵۶۷۸۹'.indexOf(d)))
    .replace(/[٠-٩]/g, (d) => String('٠١٢٣٤٥٦٧٨٩'.indexOf(d)))
    .replace(/[\s-]/g, '')
    .toUpperCase()
}

export function looksLikeLinkCode(text: string): boolean {
  const n = normalizeLinkCode(text)
  return n.length === CODE_LENGTH && [...n].every((c) => CODE_ALPHABET.includes(c))
}

export interface LinkCode {
  /** Shown once, as `ABCD-EFGH`; only its hash is stored. */
  code: string
  expiresAt: Date
}

/**
 * A one-time code the web profile page shows so its owner can link a Telegram account (`/start link-CODE` or
 * `/link CODE` in the bot). Making a new code voids the user's earlier unused ones.
 */
export async function createLinkCode(db: Db, userId: number, options: { ttlMs?: number; now?: Date } = {}): Promise<LinkCode> {
  const now = options.now ?? new Date()
  const expiresAt = new Date(now.getTime() + (options.ttlMs ?? LINK_CODE_TTL_MS))
  let raw = ''
  for (let i = 0; i < CODE_LENGTH; i++) raw += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]
  await db.transaction(async (trx) => {
    await trx('telegramLinkCodes').where({ userId }).whereNull('usedAt').update({ expiresAt: now })
    await trx('telegramLinkCodes').insert({ userId, codeHash: hashCode(raw), expiresAt })
  })
  return { code: `${raw.slice(0, 4)}-${raw.slice(4)}`, expiresAt }
}

export type LinkResult =
  | { ok: true; user: User; alreadyLinked: boolean }
  | { ok: false; reason: 'invalid' | 'expired' | 'used' | 'disabled' | 'telegram_in_use' }

/**
 * Links the Telegram account to the web account that made the code. The customer record the bot created
 * for this Telegram account on first contact is removed when it was never used (no orders, payments,
 * ledger entries or accounts); a used one keeps the Telegram account, and linking is refused.
 */
export async function linkTelegramByCode(
  db: Db,
  input: { code: string; telegramId: string; telegramUsername?: string | undefined; now?: Date },
): Promise<LinkResult> {
  const normalized = normalizeLinkCode(input.code)
  if (!looksLikeLinkCode(normalized)) return { ok: false, reason: 'invalid' }
  const now = input.now ?? new Date()
  return db.transaction(async (trx) => {
    const code = await trx('telegramLinkCodes').where({ codeHash: hashCode(normalized) }).forUpdate().first()
    if (!code) return { ok: false, reason: 'invalid' } as const
    if (code.usedAt) return { ok: false, reason: 'used' } as const
    if (new Date(code.expiresAt).getTime() <= now.getTime()) return { ok: false, reason: 'expired' } as const
    const target = (await trx('users').where({ id: code.userId }).forUpdate().first()) as User | undefined
    if (!target || target.status !== 'active') return { ok: false, reason: 'disabled' } as const
    const alreadyLinked = target.telegramId === input.telegramId
    if (!alreadyLinked) {
      const current = (await trx('users').where({ telegramId: input.telegramId }).forUpdate().first()) as User | undefined
      if (current) {
        if (!(await isUnusedPlaceholder(trx, current))) return { ok: false, reason: 'telegram_in_use' } as const
        await trx('wallets').where({ userId: current.id }).delete()
        await trx('sessions').where({ userId: current.id }).delete()
        await trx('telegramLinkCodes').where({ userId: current.id }).delete()
        await trx('users').where({ id: current.id }).delete()
      }
    }
    await trx('telegramLinkCodes').where({ id: code.id }).update({ usedAt: now, usedByTelegramId: input.telegramId })
    const [user] = await trx('users')
      .where({ id: target.id })
      .update({ telegramId: input.telegramId, telegramUsername: input.telegramUsername ?? null, updatedAt: trx.fn.now() })
      .returning('*')
    return { ok: true, user: user as User, alreadyLinked } as const
  })
}

async function isUnusedPlaceholder(db: Db, user: User): Promise<boolean> {
  if (user.passwordHash !== null || user.role !== 'customer') return false
  // One after another: `db` is a transaction, whose single connection runs one query at a time.
  if (await db('orders').where({ userId: user.id }).first('id')) return false
  if (await db('payments').where({ userId: user.id }).first('id')) return false
  if (await db('ledgerEntries').where({ walletUserId: user.id }).first('id')) return false
  return !(await db('accounts').where({ userId: user.id }).first('id'))
}

/** Removes the Telegram link of a user (web profile "unlink"). */
export async function unlinkTelegram(db: Db, userId: number): Promise<void> {
  await db('users').where({ id: userId }).update({ telegramId: null, telegramUsername: null, updatedAt: db.fn.now() })
}

// ---- receipts in admin chats ----------------------------------------------------------------------

export interface ReceiptMessage {
  paymentId: number
  chatId: string
  messageId: number
  kind: 'photo' | 'document' | 'text'
}

/** Records a copy of a receipt sent to an admin chat (so it can show the decision later). */
export async function recordReceiptMessage(db: Db, message: ReceiptMessage): Promise<boolean> {
  const rows = await db('telegramReceiptMessages')
    .insert({ paymentId: message.paymentId, chatId: message.chatId, messageId: message.messageId, kind: message.kind })
    .onConflict(['paymentId', 'chatId', 'messageId'])
    .ignore()
    .returning('paymentId')
  return rows.length > 0
}

export async function listReceiptMessages(db: Db, paymentId: number): Promise<ReceiptMessage[]> {
  const rows = await db('telegramReceiptMessages').where({ paymentId }).orderBy(['chatId', 'messageId'])
  return rows.map((r: { paymentId: number; chatId: string; messageId: string; kind: ReceiptMessage['kind'] }) => ({
    paymentId: r.paymentId,
    chatId: String(r.chatId),
    messageId: Number(r.messageId),
    kind: r.kind,
  }))
}

// ---- broadcasts -----------------------------------------------------------------------------------

export type BroadcastAudience = 'all' | 'customers' | 'agents' | 'segment'
export interface BroadcastSegment {
  role?: Role
  locale?: Locale
  /** Only people with at least one active account on this location. */
  locationId?: number
  /** Only people with at least one active account. */
  hasActiveAccount?: boolean
}
export type BroadcastStatus = 'queued' | 'sending' | 'done' | 'cancelled'

export interface Broadcast {
  id: number
  createdBy: number
  text: string
  audience: BroadcastAudience
  segment: BroadcastSegment
  status: BroadcastStatus
  total: number
  delivered: number
  failed: number
  workflowId: string | null
  createdAt: Date
  startedAt: Date | null
  finishedAt: Date | null
}

export async function createBroadcast(
  db: Db,
  input: { createdBy: number; text: string; audience: BroadcastAudience; segment?: BroadcastSegment },
): Promise<Broadcast> {
  const [row] = await db('broadcasts')
    .insert({ createdBy: input.createdBy, text: input.text, audience: input.audience, segment: JSON.stringify(input.segment ?? {}) })
    .returning('*')
  return row as Broadcast
}

export async function setBroadcastWorkflowId(db: Db, broadcastId: number, workflowId: string): Promise<void> {
  await db('broadcasts').where({ id: broadcastId }).update({ workflowId })
}

export class BroadcastRefusedError extends Error {
  override name = 'BroadcastRefusedError'
}

/**
 * Stores a broadcast and starts its workflow (`broadcast-<id>`), the path the bot and the CLI share. Only admins
 * may broadcast; the text is 1–4000 characters. `recipients` is how many people the audience has now (the workflow
 * fixes the list when it starts).
 */
export async function startBroadcast(
  db: Db,
  client: Client,
  input: { createdBy: number; text: string; audience: BroadcastAudience; segment?: BroadcastSegment },
): Promise<{ broadcast: Broadcast; workflowId: string; recipients: number }> {
  const text = input.text.trim()
  if (text === '' || text.length > 4000) throw new BroadcastRefusedError('The message must be 1–4000 characters')
  const problem = findTextProblem(text, 'multiLine')
  if (problem) throw new BroadcastRefusedError(`The message ${TEXT_PROBLEM_MESSAGES[problem]}`)
  const admin = await db('users').where({ id: input.createdBy }).first('role', 'status')
  if (admin?.role !== 'admin' || admin.status !== 'active') throw new BroadcastRefusedError(`User ${input.createdBy} is not an active admin`)
  const recipients = await countAudience(db, input.audience, input.segment ?? {})
  const broadcast = await createBroadcast(db, { ...input, text })
  const workflowId = broadcastWorkflowId(broadcast.id)
  await setBroadcastWorkflowId(db, broadcast.id, workflowId)
  const args: [BroadcastInput] = [{ broadcastId: broadcast.id }]
  try {
    await client.workflow.start(WORKFLOW_TYPES.broadcast, { taskQueue: MAIN_TASK_QUEUE, workflowId, args, workflowIdConflictPolicy: 'USE_EXISTING' })
  } catch (error) {
    await db('broadcasts').where({ id: broadcast.id }).update({ status: 'cancelled', finishedAt: db.fn.now() })
    throw error
  }
  return { broadcast: { ...broadcast, workflowId }, workflowId, recipients }
}

export async function getBroadcast(db: Db, broadcastId: number): Promise<Broadcast | undefined> {
  return db('broadcasts').where({ id: broadcastId }).first()
}

function audienceQuery(db: Db, audience: BroadcastAudience, segment: BroadcastSegment) {
  const q = db('users as u').whereNotNull('u.telegramId').where('u.status', 'active')
  if (audience === 'customers') q.where('u.role', 'customer')
  if (audience === 'agents') q.where('u.role', 'agent')
  if (audience === 'segment') {
    if (segment.role) q.where('u.role', segment.role)
    if (segment.locale) q.where('u.locale', segment.locale)
    if (segment.hasActiveAccount || segment.locationId !== undefined) {
      q.whereExists(function () {
        this.select(db.raw('1'))
          .from('accounts as a')
          .whereRaw('a.user_id = u.id')
          .where('a.status', 'active')
        if (segment.locationId !== undefined) {
          this.join('panels as p', 'p.id', 'a.panelId').where('p.locationId', segment.locationId)
        }
      })
    }
  }
  return q
}

/** How many people a broadcast would reach now (for the admin's confirmation). */
export async function countAudience(db: Db, audience: BroadcastAudience, segment: BroadcastSegment = {}): Promise<number> {
  const row = await audienceQuery(db, audience, segment).count<{ count: string }[]>('u.id as count').first()
  return Number(row?.count ?? 0)
}

/**
 * Fixes the recipient list of a broadcast (once: a second call finds the rows the first made) and marks it
 * sending. Returns the number of recipients.
 */
export async function prepareBroadcastRecipients(db: Db, broadcastId: number): Promise<number> {
  return db.transaction(async (trx) => {
    const b = (await trx('broadcasts').where({ id: broadcastId }).forUpdate().first()) as Broadcast | undefined
    if (!b) throw new Error(`Broadcast ${broadcastId} does not exist`)
    if (b.status === 'queued') {
      const select = audienceQuery(trx, b.audience, b.segment ?? {}).select(trx.raw('?::int', [broadcastId]), 'u.telegramId', 'u.id')
      await trx.raw(
        `insert into broadcast_recipients (broadcast_id, chat_id, user_id) ${select.toQuery()} on conflict do nothing`,
      )
      const [row] = await trx('broadcastRecipients').where({ broadcastId }).count<{ count: string }[]>('* as count')
      const total = Number(row?.count ?? 0)
      await trx('broadcasts').where({ id: broadcastId }).update({ status: 'sending', total, startedAt: trx.fn.now() })
      return total
    }
    return b.total
  })
}

/** Inserts recipients directly (tests and tools that target chats rather than users). */
export async function addBroadcastRecipients(db: Db, broadcastId: number, chatIds: string[]): Promise<void> {
  for (let i = 0; i < chatIds.length; i += 500) {
    await db('broadcastRecipients')
      .insert(chatIds.slice(i, i + 500).map((chatId) => ({ broadcastId, chatId })))
      .onConflict(['broadcastId', 'chatId'])
      .ignore()
  }
}

export interface BroadcastRecipient {
  chatId: string
  status: 'pending' | 'sending' | 'sent' | 'failed'
  attempts: number
}

/** Recipients not tried yet, in a stable order. Reading them claims nothing: see `claimBroadcastRecipient`. */
export async function listPendingBroadcastRecipients(db: Db, broadcastId: number, limit: number): Promise<string[]> {
  const rows = await db('broadcastRecipients').where({ broadcastId, status: 'pending' }).orderBy('chatId').limit(limit).select('chatId')
  return rows.map((r: { chatId: string }) => String(r.chatId))
}

/**
 * Marks one recipient `sending` right before its message goes out; false when it is no longer pending (another
 * attempt took it). A row left in `sending` by a crash is never claimed again: at most one message per chat.
 */
export async function claimBroadcastRecipient(db: Db, broadcastId: number, chatId: string): Promise<boolean> {
  const n = await db('broadcastRecipients')
    .where({ broadcastId, chatId, status: 'pending' })
    .update({ status: 'sending', attempts: db.raw('attempts + 1') })
  return n === 1
}

export async function markBroadcastRecipient(
  db: Db,
  broadcastId: number,
  chatId: string,
  outcome: { status: 'sent'; messageId: number } | { status: 'failed'; error: string } | { status: 'pending'; error: string },
): Promise<void> {
  if (outcome.status === 'sent') {
    await db('broadcastRecipients')
      .where({ broadcastId, chatId })
      .update({ status: 'sent', messageId: outcome.messageId, sentAt: db.fn.now(), lastError: null })
  } else {
    await db('broadcastRecipients').where({ broadcastId, chatId }).update({ status: outcome.status, lastError: outcome.error.slice(0, 500) })
  }
}

export interface BroadcastCounts {
  total: number
  pending: number
  sending: number
  sent: number
  failed: number
}

export async function countBroadcastRecipients(db: Db, broadcastId: number): Promise<BroadcastCounts> {
  const rows = await db('broadcastRecipients').where({ broadcastId }).groupBy('status').select('status').count<{ status: string; count: string }[]>('* as count')
  const counts: BroadcastCounts = { total: 0, pending: 0, sending: 0, sent: 0, failed: 0 }
  for (const r of rows) {
    const n = Number(r.count)
    counts.total += n
    if (r.status in counts) counts[r.status as keyof BroadcastCounts] += n
  }
  return counts
}

/** Stores the final counts; rows still `sending` (interrupted mid-send) count as failed. */
export async function finishBroadcast(db: Db, broadcastId: number): Promise<BroadcastCounts> {
  await db('broadcastRecipients')
    .where({ broadcastId, status: 'sending' })
    .update({ status: 'failed', lastError: 'interrupted while sending; not retried so that nobody gets it twice' })
  const counts = await countBroadcastRecipients(db, broadcastId)
  await db('broadcasts')
    .where({ id: broadcastId })
    .update({ status: 'done', delivered: counts.sent, failed: counts.failed, total: counts.total, finishedAt: db.fn.now() })
  return counts
}

// ---- what the bot shows ---------------------------------------------------------------------------

export interface LedgerEntryView {
  id: string
  type: string
  confirmedDelta: string
  pendingDelta: string
  note: string | null
  createdAt: Date
}

/** A page of a wallet's history, newest first; `beforeId` continues after the last entry of the previous page. */
export async function listLedgerEntries(db: Db, userId: number, options: { beforeId?: string; limit: number }): Promise<LedgerEntryView[]> {
  const q = db('ledgerEntries').where({ walletUserId: userId }).orderBy('id', 'desc').limit(options.limit)
  if (options.beforeId) q.where('id', '<', options.beforeId)
  const rows = await q.select('id', 'type', 'confirmedDelta', 'pendingDelta', 'note', 'createdAt')
  return rows.map((r: LedgerEntryView) => ({ ...r, id: String(r.id), confirmedDelta: String(r.confirmedDelta), pendingDelta: String(r.pendingDelta) }))
}

export interface ReceiptMethod {
  id: number
  kind: 'CARD' | 'SHEBA' | 'CRYPTO'
  titleFa: string
  titleEn: string
  config: Record<string, unknown>
}

/** Payment methods paid by sending a receipt (card-to-card, IBAN transfer, crypto), active ones only. */
export async function listReceiptMethods(db: Db): Promise<ReceiptMethod[]> {
  return db('paymentMethods').where({ active: true }).whereIn('kind', ['CARD', 'SHEBA', 'CRYPTO']).orderBy('id').select('id', 'kind', 'titleFa', 'titleEn', 'config')
}

export async function getReceiptMethod(db: Db, methodId: number): Promise<ReceiptMethod | undefined> {
  return db('paymentMethods').where({ id: methodId, active: true }).whereIn('kind', ['CARD', 'SHEBA', 'CRYPTO']).first('id', 'kind', 'titleFa', 'titleEn', 'config')
}

export interface LocationView {
  id: number
  nameFa: string
  nameEn: string
}

/**
 * Locations a user can buy in now: active, with at least one active plan sold there, and — for an agent with a
 * location list — on that list.
 */
export async function listLocationsForSale(db: Db, userId: number): Promise<LocationView[]> {
  const q = db('locations as l')
    .where('l.active', true)
    .whereExists(function () {
      this.select(db.raw('1')).from('planLocations as pl').join('plans as p', 'p.id', 'pl.planId').whereRaw('pl.location_id = l.id').where('p.active', true)
    })
    .orderBy('l.id')
    .select('l.id', 'l.nameFa', 'l.nameEn')
  const allowed: number[] = await db('agentLocations as al').join('users as u', 'u.id', 'al.agentUserId').where({ 'al.agentUserId': userId, 'u.role': 'agent' }).pluck('al.locationId')
  if (allowed.length > 0) q.whereIn('l.id', allowed)
  return q
}

export async function getLocation(db: Db, locationId: number): Promise<(LocationView & { active: boolean }) | undefined> {
  return db('locations').where({ id: locationId }).first('id', 'nameFa', 'nameEn', 'active')
}

export interface PlanView {
  id: number
  nameFa: string
  nameEn: string
  days: number
  dataLimitBytes: string
  price: string
  agentPrice: string
}

/** Active plans sold in a location, cheapest first. */
export async function listPlansForLocation(db: Db, locationId: number): Promise<PlanView[]> {
  const rows = await db('plans as p')
    .join('planLocations as pl', 'pl.planId', 'p.id')
    .where({ 'pl.locationId': locationId, 'p.active': true })
    .orderBy([{ column: 'p.price', order: 'asc' }, { column: 'p.id' }])
    .select('p.id', 'p.nameFa', 'p.nameEn', 'p.days', 'p.dataLimitBytes', 'p.price', 'p.agentPrice')
  return rows.map((r: PlanView) => ({ ...r, dataLimitBytes: String(r.dataLimitBytes), price: String(r.price), agentPrice: String(r.agentPrice) }))
}

export async function getPlan(db: Db, planId: number): Promise<(PlanView & { active: boolean }) | undefined> {
  const r = await db('plans').where({ id: planId }).first('id', 'nameFa', 'nameEn', 'days', 'dataLimitBytes', 'price', 'agentPrice', 'active')
  return r ? { ...r, dataLimitBytes: String(r.dataLimitBytes), price: String(r.price), agentPrice: String(r.agentPrice) } : undefined
}

export interface AccountView {
  id: number
  userId: number
  orderId: number
  panelUsername: string
  subscriptionUrl: string | null
  expiresAt: Date | null
  dataLimitBytes: string
  dataUsedBytes: string
  status: 'active' | 'disabled' | 'limited' | 'expired' | 'deleted'
  disabledReason: 'negative_credit' | 'admin' | 'expired' | 'limited' | null
  planId: number
  planFa: string
  planEn: string
  locationId: number
  locationFa: string
  locationEn: string
}

function accountViews(db: Db) {
  return db('accounts as a')
    .join('plans as p', 'p.id', 'a.planId')
    .join('panels as pn', 'pn.id', 'a.panelId')
    .join('locations as l', 'l.id', 'pn.locationId')
    .select(
      'a.id',
      'a.userId',
      'a.orderId',
      'a.panelUsername',
      'a.subscriptionUrl',
      'a.expiresAt',
      'a.dataLimitBytes',
      'a.dataUsedBytes',
      'a.status',
      'a.disabledReason',
      'a.planId',
      'p.nameFa as planFa',
      'p.nameEn as planEn',
      'l.id as locationId',
      'l.nameFa as locationFa',
      'l.nameEn as locationEn',
    )
}

function toAccountView(r: AccountView): AccountView {
  return { ...r, dataLimitBytes: String(r.dataLimitBytes), dataUsedBytes: String(r.dataUsedBytes) }
}

/** A user's accounts that are not deleted, newest first. */
export async function listUserAccounts(db: Db, userId: number, limit = 50): Promise<AccountView[]> {
  const rows = await accountViews(db).where('a.userId', userId).whereNot('a.status', 'deleted').orderBy('a.id', 'desc').limit(limit)
  return rows.map(toAccountView)
}

/** One account of a user (undefined when it is someone else's). */
export async function getUserAccount(db: Db, userId: number, accountId: number): Promise<AccountView | undefined> {
  const r = await accountViews(db).where({ 'a.id': accountId, 'a.userId': userId }).first()
  return r ? toAccountView(r) : undefined
}

export interface PaymentView {
  id: number
  userId: number
  amount: string
  status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED'
  orderId: number | null
  methodId: number
  methodFa: string
  methodEn: string
  receiptPath: string | null
  receiptMime: string | null
  decidedBy: number | null
  decidedByName: string | null
  decidedAt: Date | null
  note: string | null
  createdAt: Date
  payerUsername: string
  payerDisplayName: string | null
  payerTelegramUsername: string | null
  payerRole: Role
  payerTelegramId: string | null
}

function paymentViews(db: Db) {
  return db('payments as py')
    .join('paymentMethods as m', 'm.id', 'py.methodId')
    .join('users as u', 'u.id', 'py.userId')
    .leftJoin('users as d', 'd.id', 'py.decidedBy')
    .select(
      'py.id',
      'py.userId',
      'py.amount',
      'py.status',
      'py.orderId',
      'py.methodId',
      'm.titleFa as methodFa',
      'm.titleEn as methodEn',
      'py.receiptPath',
      'py.receiptMime',
      'py.decidedBy',
      db.raw('coalesce(d.display_name, d.username) as "decidedByName"'),
      'py.decidedAt',
      'py.note',
      'py.createdAt',
      'u.username as payerUsername',
      'u.displayName as payerDisplayName',
      'u.telegramUsername as payerTelegramUsername',
      'u.role as payerRole',
      'u.telegramId as payerTelegramId',
    )
}

function toPaymentView(r: PaymentView): PaymentView {
  return { ...r, amount: String(r.amount), payerTelegramId: r.payerTelegramId === null ? null : String(r.payerTelegramId) }
}

export async function getPaymentView(db: Db, paymentId: number): Promise<PaymentView | undefined> {
  const r = await paymentViews(db).where('py.id', paymentId).first()
  return r ? toPaymentView(r) : undefined
}

/** Payments waiting for an admin, oldest first; online (gateway) payments are confirmed by the gateway, not listed. */
export async function listPendingPayments(db: Db, limit: number): Promise<PaymentView[]> {
  const rows = await paymentViews(db).where('py.status', 'PENDING').whereNot('m.kind', 'ZARINPAL').orderBy('py.id', 'asc').limit(limit)
  return rows.map(toPaymentView)
}

/** The latest payment of an order, whatever its state. */
export async function latestPaymentOfOrder(db: Db, orderId: number): Promise<PaymentView | undefined> {
  const r = await paymentViews(db).where('py.orderId', orderId).orderBy('py.id', 'desc').first()
  return r ? toPaymentView(r) : undefined
}

/** How a person is named to admins: display name, @telegram, and the username. */
export function payerLabel(p: Pick<PaymentView, 'payerUsername' | 'payerDisplayName' | 'payerTelegramUsername'>): string {
  const parts = [p.payerDisplayName, p.payerTelegramUsername ? `@${p.payerTelegramUsername}` : null, p.payerDisplayName ? `(${p.payerUsername})` : p.payerUsername]
  return parts.filter(Boolean).join(' ')
}

/** Display name (or username) of a user, for "approved by X". */
export async function userLabel(db: Db, userId: number): Promise<string | null> {
  const u = await db('users').where({ id: userId }).first('username', 'displayName')
  return u ? (u.displayName ?? u.username) : null
}

export interface OrderState {
  id: number
  userId: number
  planId: number
  locationId: number | null
  kind: 'new' | 'renew' | 'extend'
  payMethod: 'wallet' | 'receipt' | 'zarinpal'
  price: string
  status: 'pending' | 'awaiting_payment' | 'provisioning' | 'delivered' | 'failed' | 'cancelled' | 'refunded'
  accountId: number | null
  failureReason: string | null
}

export async function getOrderState(db: Db, orderId: number): Promise<OrderState | undefined> {
  const r = await db('orders').where({ id: orderId }).first('id', 'userId', 'planId', 'locationId', 'kind', 'payMethod', 'price', 'status', 'accountId', 'failureReason')
  return r ? { ...r, price: String(r.price) } : undefined
}

/** The account an order made or renewed. */
export async function accountOfOrder(db: Db, order: Pick<OrderState, 'id' | 'accountId'>): Promise<{ id: number; panelUsername: string; subscriptionUrl: string | null } | undefined> {
  const q = db('accounts').first('id', 'panelUsername', 'subscriptionUrl')
  return order.accountId !== null ? q.where({ id: order.accountId }) : q.where({ orderId: order.id })
}

/**
 * Every copy of a payment sent to an admin chat: the bot's receipt copies and the payment workflow's notifications
 * (`payment-<id>:…:chat:<chatId>` in notifications_sent), so all of them can show the decision.
 */
export async function listAdminCopies(db: Db, paymentId: number): Promise<ReceiptMessage[]> {
  const own = await listReceiptMessages(db, paymentId)
  const rows = await db('notificationsSent')
    .where('key', 'like', `payment-${paymentId}:%:chat:%`)
    .where({ status: 'sent' })
    .whereNotNull('messageId')
    .select('chatId', 'messageId')
  const seen = new Set(own.map((c) => `${c.chatId}:${c.messageId}`))
  const copies = [...own]
  for (const r of rows as { chatId: string; messageId: string }[]) {
    const key = `${r.chatId}:${r.messageId}`
    if (seen.has(key)) continue
    seen.add(key)
    copies.push({ paymentId, chatId: String(r.chatId), messageId: Number(r.messageId), kind: 'text' })
  }
  return copies
}
