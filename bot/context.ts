import type { Client } from '@temporalio/client'
import type { Context, SessionFlavor } from 'grammy'
import type { Redis } from 'ioredis'
import type { Env } from '#config/env.ts'
import type { Db } from '#db/knex.ts'
import type { Locale, User } from '#db/models.ts'
import type { RefundPolicy } from '#domain/refund.ts'
import type { Format, Messages } from './i18n/index.ts'
import type { Logger } from './logger.ts'
import type { ProgressTracker } from './services/progress.ts'

/** How the bot reaches Temporal: a lazily connected client (web/app/utils/temporal.server.ts has one). */
export interface TemporalAccess {
  getClient(): Promise<Client>
}

export interface BotSettings {
  /** Updates a person may send per window before the bot stops answering for the rest of it. */
  rateLimit: { limit: number; windowMs: number }
  /** How often the progress of an order is read while someone watches it. */
  progressPollMs: number
  /** How long a progress message keeps following an order that does not change. */
  progressIdleMs: number
  /** Idle sessions are forgotten after this long. */
  sessionTtlSeconds: number
  /** Prefix of every Redis key the bot writes: the installation's `bot` scope (set by createBot from REDIS_PREFIX). */
  redisPrefix: string
  /** The refund policy quotes are made with; the worker's default when unset. */
  refundPolicy?: RefundPolicy
}

export const DEFAULT_BOT_SETTINGS: Omit<BotSettings, 'redisPrefix'> = {
  rateLimit: { limit: 20, windowMs: 10_000 },
  progressPollMs: 1_500,
  progressIdleMs: 30 * 60_000,
  sessionTtlSeconds: 24 * 3600,
}

export interface BotDeps {
  env: Env
  db: Db
  redis: Redis
  temporal: TemporalAccess
  logger: Logger
  settings: BotSettings
}

/** What the bot is waiting for from this person in this chat, if anything. */
export type Step =
  | { kind: 'receipt'; methodId: number; amount: string; orderId: number | null }
  | { kind: 'topup_amount'; methodId: number }
  | { kind: 'reject_reason'; paymentId: number; chatId: number; messageId: number | null }
  | { kind: 'broadcast_text'; audience: 'all' | 'customers' | 'agents' }
  | { kind: 'broadcast_confirm'; audience: 'all' | 'customers' | 'agents'; text: string }

export interface SessionData {
  step?: Step
}

/** Long-lived helpers of one bot instance (they need its API). */
export interface BotServices {
  progress: ProgressTracker
}

export interface BotFlavor {
  deps: BotDeps
  services: BotServices
  /** The flowpanel user behind the sender; undefined before /start. */
  user: User | undefined
  locale: Locale
  t: Messages
  f: Format
}

export type BotContext = Context & SessionFlavor<SessionData> & BotFlavor
