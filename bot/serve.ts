import type { Client } from '@temporalio/client'
import type { Express } from 'express'
import type { Redis } from 'ioredis'
import type { Env } from '#config/env.ts'
import type { Db } from '#db/knex.ts'
import { adminChatIds } from '#db/notifications.ts'
import { createTemporalClient } from '#temporal/client.ts'
import { registerCommands } from './commands.ts'
import type { BotSettings, TemporalAccess } from './context.ts'
import { createBot, type FlowpanelBot } from './index.ts'
import { createLogger, getErrorMessage, type Logger } from './logger.ts'
import { ALLOWED_UPDATES, createUpdateDispatcher, startPolling, type Poller, type UpdateDispatcher } from './runtime.ts'
import { isValidWebhookSecret, mountTelegramWebhook, WEBHOOK_PATH } from './webhook.ts'

/**
 * Running the bot in a process: `startBotPolling` for `npm run bot`, `createBotWebhook` for the web server. Both
 * feed the same dispatcher and the same handlers.
 */
export interface BotRuntimeDeps {
  env: Env
  db: Db
  redis: Redis
  /** A Temporal client or a lazily connected one; by default the bot connects to TEMPORAL_ADDRESS on first use. */
  temporal?: TemporalAccess | Client
  logger?: Logger
  settings?: Partial<Omit<BotSettings, 'redisPrefix'>>
}

/** Connects on first use and again after a failure (never more than one attempt every few seconds). */
export function lazyTemporal(env: Pick<Env, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>, retryAfterMs = 5_000): TemporalAccess & { close(): Promise<void> } {
  let pending: ReturnType<typeof createTemporalClient> | undefined
  let failedAt = 0
  return {
    async getClient() {
      if (!pending && Date.now() - failedAt < retryAfterMs) throw new Error('Temporal is unreachable; retrying shortly')
      pending ??= createTemporalClient(env).catch((error: unknown) => {
        pending = undefined
        failedAt = Date.now()
        throw error
      })
      return (await pending).client
    },
    async close() {
      const p = pending
      pending = undefined
      if (p) await (await p).close().catch(() => {})
    },
  }
}

function temporalAccess(deps: BotRuntimeDeps): TemporalAccess & { close(): Promise<void> } {
  const t = deps.temporal
  if (!t) return lazyTemporal(deps.env)
  if ('getClient' in t) return { getClient: () => t.getClient(), close: async () => {} }
  return { getClient: async () => t, close: async () => {} }
}

function requireToken(env: Env): string {
  if (!env.TELEGRAM_BOT_TOKEN) throw new Error('TELEGRAM_BOT_TOKEN is not set; the bot needs the token @BotFather gave')
  return env.TELEGRAM_BOT_TOKEN
}

export interface RunningBot {
  bot: FlowpanelBot
  dispatcher: UpdateDispatcher
  stop(): Promise<void>
}

async function prepare(deps: BotRuntimeDeps): Promise<{ bot: FlowpanelBot; dispatcher: UpdateDispatcher; logger: Logger; temporal: ReturnType<typeof temporalAccess> }> {
  const token = requireToken(deps.env)
  const logger = deps.logger ?? createLogger({ level: deps.env.LOG_LEVEL })
  const temporal = temporalAccess(deps)
  const bot = createBot(token, { env: deps.env, db: deps.db, redis: deps.redis, temporal, logger, settings: deps.settings })
  await bot.init()
  try {
    await registerCommands(bot.api, await adminChatIds(deps.db, deps.env.TELEGRAM_ADMIN_CHAT_IDS), deps.env.DEFAULT_LOCALE)
  } catch (error) {
    logger.warn('commands-not-registered', { error: getErrorMessage(error) })
  }
  const dispatcher = createUpdateDispatcher(bot, { redis: deps.redis, redisPrefix: bot.deps.settings.redisPrefix, logger })
  return { bot, dispatcher, logger, temporal }
}

/** Long polling (development). Removes any webhook first: Telegram delivers one way at a time. */
export async function startBotPolling(deps: BotRuntimeDeps, options: { timeoutSeconds?: number } = {}): Promise<RunningBot & { poller: Poller }> {
  const { bot, dispatcher, logger, temporal } = await prepare(deps)
  const poller = startPolling(bot, dispatcher, { logger, timeoutSeconds: options.timeoutSeconds })
  logger.info('bot-polling', { username: bot.botInfo.username })
  let stopped: Promise<void> | undefined
  return {
    bot,
    dispatcher,
    poller,
    stop() {
      stopped ??= (async () => {
        await poller.stop()
        await bot.services.progress.stop()
        await temporal.close()
      })()
      return stopped
    },
  }
}

export interface BotWebhook extends RunningBot {
  /** Pass to the web server's `mountRoutes`. */
  mountRoutes(app: Express): void
  /** Tells Telegram where to deliver updates (PUBLIC_URL + path) and the secret to send with them. */
  register(): Promise<void>
}

/** Webhook mode, inside the web server: the secret token header is checked on every delivery. */
export async function createBotWebhook(deps: BotRuntimeDeps, options: { path?: string } = {}): Promise<BotWebhook> {
  const secret = deps.env.TELEGRAM_WEBHOOK_SECRET
  if (!secret || !isValidWebhookSecret(secret)) {
    throw new Error('TELEGRAM_WEBHOOK_SECRET must be set to 1–256 characters of A–Z, a–z, 0–9, _ or - to receive Telegram updates by webhook')
  }
  const { bot, dispatcher, logger, temporal } = await prepare(deps)
  const path = options.path ?? WEBHOOK_PATH
  return {
    bot,
    dispatcher,
    mountRoutes(app) {
      mountTelegramWebhook(app, { dispatcher, secretToken: secret, logger, path })
    },
    async register() {
      const url = new URL(path, deps.env.PUBLIC_URL).toString()
      await bot.api.setWebhook(url, { secret_token: secret, allowed_updates: [...ALLOWED_UPDATES], drop_pending_updates: false })
      logger.info('bot-webhook', { url, username: bot.botInfo.username })
    },
    async stop() {
      await dispatcher.idle()
      await bot.services.progress.stop()
      await temporal.close()
    },
  }
}

export type BotMode = 'webhook' | 'polling' | 'off'

/**
 * How this installation receives updates (docs/decisions/006-where-the-bot-runs.md): no token, no bot; a public
 * https URL and a webhook secret, by webhook in the web server; otherwise by long polling.
 */
export function botMode(env: Pick<Env, 'TELEGRAM_BOT_TOKEN' | 'TELEGRAM_WEBHOOK_SECRET' | 'PUBLIC_URL'>): BotMode {
  if (!env.TELEGRAM_BOT_TOKEN) return 'off'
  if (env.TELEGRAM_WEBHOOK_SECRET && new URL(env.PUBLIC_URL).protocol === 'https:') return 'webhook'
  return 'polling'
}

export interface BotInProcess {
  mode: BotMode
  /** Give to the web server's `mountRoutes` (mounts the webhook in webhook mode; nothing otherwise). */
  mountRoutes(app: Express): void
  /** Call once the web server listens: registers the webhook, or starts polling. */
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * The bot next to the web server, in the mode the configuration calls for; the web server needs only
 * `mountRoutes` and `start`/`stop` around its own life. A bot that fails to start is logged and the rest runs on.
 */
export async function prepareBotInProcess(deps: BotRuntimeDeps): Promise<BotInProcess> {
  const mode = botMode(deps.env)
  const logger = deps.logger ?? createLogger({ level: deps.env.LOG_LEVEL })
  if (mode === 'off') return { mode, mountRoutes() {}, async start() {}, async stop() {} }
  if (mode === 'webhook') {
    const hook = await createBotWebhook({ ...deps, logger })
    return {
      mode,
      mountRoutes: (app) => hook.mountRoutes(app),
      start: () => hook.register(),
      stop: () => hook.stop(),
    }
  }
  let running: (RunningBot & { poller: Poller }) | undefined
  return {
    mode,
    mountRoutes() {},
    async start() {
      try {
        running = await startBotPolling({ ...deps, logger })
      } catch (error) {
        logger.error('bot-not-started', { error: getErrorMessage(error) })
      }
    },
    async stop() {
      await running?.stop()
    },
  }
}
