import { Bot, type BotError } from 'grammy'
import type { UserFromGetMe } from 'grammy/types'
import { DEFAULT_BOT_SETTINGS, type BotContext, type BotDeps, type BotServices, type BotSettings } from './context.ts'
import { accountsFeature } from './features/accounts.ts'
import { adminFeature } from './features/admin.ts'
import { buyFeature } from './features/buy.ts'
import { receiptFeature } from './features/receipt.ts'
import { unhandledFeature } from './features/unhandled.ts'
import { walletFeature } from './features/wallet.ts'
import { welcomeFeature } from './features/welcome.ts'
import { getMessages } from './i18n/index.ts'
import { redisNames } from '#config/redis-names.ts'
import { localeFromTelegram } from '#db/telegram.ts'
import { createLogger, getErrorMessage } from './logger.ts'
import { retryOnFlood } from './middlewares/api-retry.ts'
import { rateLimit } from './middlewares/rate-limit.ts'
import { redisSession } from './middlewares/session.ts'
import { attachUser } from './middlewares/user.ts'
import { createProgressTracker } from './services/progress.ts'

export type { BotContext, BotDeps, BotServices, BotSettings }

/** Settings a caller may change; the Redis prefix always follows the installation's REDIS_PREFIX. */
export type BotSettingsInput = Partial<Omit<BotSettings, 'redisPrefix'>>

export type BotDepsInput = Omit<BotDeps, 'settings' | 'logger'> & { settings?: BotSettingsInput; logger?: BotDeps['logger'] }

export type FlowpanelBot = Bot<BotContext> & { deps: BotDeps; services: BotServices }

async function errorHandler(error: BotError<BotContext>): Promise<void> {
  const ctx = error.ctx
  const logger = ctx.deps?.logger ?? createLogger()
  logger.error('handler-failed', { updateId: ctx.update.update_id, from: ctx.from?.id, error: getErrorMessage(error.error) })
  try {
    if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => {})
    if (ctx.chat && ctx.t) await ctx.reply(ctx.t.error.value, { parse_mode: 'HTML' })
  } catch {
    // Telegram itself may be what failed; the error is logged above.
  }
}

/**
 * The flowpanel bot: one grammY bot whose handlers run the same whether updates arrive by webhook (inside the web
 * server) or by long polling (`npm run bot`). Features are composers, in this order: first contact and menus,
 * admins, the receipt step, wallet, buying, accounts, and the catch-all last.
 */
export function createBot(token: string, input: BotDepsInput, options: { botInfo?: UserFromGetMe } = {}): FlowpanelBot {
  const deps: BotDeps = {
    ...input,
    logger: input.logger ?? createLogger({ level: input.env.LOG_LEVEL }),
    settings: { ...DEFAULT_BOT_SETTINGS, ...input.settings, redisPrefix: redisNames(input.env).scope('bot') },
  }
  const bot = new Bot<BotContext>(token, { client: { apiRoot: deps.env.TELEGRAM_API_ROOT }, botInfo: options.botInfo })
  bot.api.config.use(retryOnFlood(deps.logger))
  const services: BotServices = { progress: createProgressTracker(deps, bot.api) }

  bot.use((ctx, next) => {
    ctx.deps = deps
    ctx.services = services
    // Until the user is loaded, texts follow what Telegram says about the person.
    ctx.locale = localeFromTelegram(ctx.from?.language_code, deps.env.DEFAULT_LOCALE)
    const { t, f } = getMessages(ctx.locale, deps.env.CURRENCY)
    ctx.t = t
    ctx.f = f
    return next()
  })
  bot.use(rateLimit())
  bot.use(attachUser())
  bot.use(redisSession(deps.redis, deps.settings.redisPrefix, deps.settings.sessionTtlSeconds))

  const features = bot.errorBoundary(errorHandler)
  features.use(welcomeFeature)
  features.use(adminFeature)
  features.use(receiptFeature)
  features.use(walletFeature)
  features.use(buyFeature)
  features.use(accountsFeature)
  // Must be the last feature.
  features.use(unhandledFeature)

  bot.catch(errorHandler)
  return Object.assign(bot, { deps, services })
}
