import { Composer } from 'grammy'
import { ensureTelegramUser, linkTelegramByCode, setUserLocale } from '#db/telegram.ts'
import type { BotContext } from '../context.ts'
import { logHandle } from '../helpers/log-handle.ts'
import { cancelWaitingOrder } from './buy.ts'
import { answer, reply, show } from '../helpers/screen.ts'
import { backToMenu, languageKeyboard, mainMenu, MENU } from '../keyboards/menu.ts'
import { useLocale } from '../middlewares/user.ts'

/** First contact, linking a web account, the menu, help, language, and /cancel. */
export const welcomeFeature = new Composer<BotContext>()
const privateChat = welcomeFeature.chatType('private')

async function start(ctx: BotContext): Promise<void> {
  const from = ctx.from!
  const { user, created } = await ensureTelegramUser(
    ctx.deps.db,
    { telegramId: String(from.id), username: from.username, firstName: from.first_name, lastName: from.last_name, languageCode: from.language_code },
    ctx.deps.env.DEFAULT_LOCALE,
  )
  ctx.user = user
  useLocale(ctx, user.locale)
  if (user.status !== 'active') return reply(ctx, ctx.t.userDisabled)
  const name = user.displayName ?? from.first_name ?? user.username
  await reply(ctx, created ? ctx.t.welcomeNew(name) : ctx.t.welcomeBack(name, user.role), mainMenu(ctx.t))
}

async function link(ctx: BotContext, code: string): Promise<void> {
  const from = ctx.from!
  if (code.trim() === '') return reply(ctx, ctx.t.linkAsk)
  // Codes are guessable only by brute force; cap the failures per Telegram account.
  const key = `${ctx.deps.settings.redisPrefix}linkfail:${from.id}`
  const failures = Number((await ctx.deps.redis.get(key)) ?? 0)
  if (failures >= 10) return reply(ctx, ctx.t.rateLimited)
  const result = await linkTelegramByCode(ctx.deps.db, { code, telegramId: String(from.id), telegramUsername: from.username })
  if (!result.ok) {
    await ctx.deps.redis.multi().incr(key).expire(key, 3600).exec()
    return reply(ctx, ctx.t.linkFailed(result.reason))
  }
  ctx.user = result.user
  useLocale(ctx, result.user.locale)
  ctx.deps.logger.info('telegram-linked', { userId: result.user.id, telegramId: from.id })
  const text = result.alreadyLinked ? ctx.t.linkAlready(result.user.username) : ctx.t.linkOk(result.user.username, result.user.role)
  await reply(ctx, text, mainMenu(ctx.t))
}

privateChat.command('start', logHandle('command-start'), async (ctx) => {
  const payload = ctx.match.trim()
  const m = /^link[-_](.+)$/i.exec(payload)
  if (m) return link(ctx, m[1]!)
  await start(ctx)
})

privateChat.command('link', logHandle('command-link'), (ctx) => link(ctx, ctx.match))

welcomeFeature.command('cancel', logHandle('command-cancel'), async (ctx) => {
  const step = ctx.session.step
  // Cancelling the wait for a receipt cancels the order that waits for it.
  if (step?.kind === 'receipt' && step.orderId !== null && ctx.user) return cancelWaitingOrder(ctx, step.orderId)
  const had = step !== undefined
  ctx.session.step = undefined
  await reply(ctx, had ? ctx.t.cancelled : ctx.t.nothingToCancel, ctx.chat.type === 'private' && ctx.user ? mainMenu(ctx.t) : undefined)
})

privateChat.command(['menu'], logHandle('command-menu'), async (ctx) => {
  if (!ctx.user) return start(ctx)
  await reply(ctx, ctx.t.menu, mainMenu(ctx.t))
})

privateChat.callbackQuery(MENU.home, logHandle('menu-home'), async (ctx) => {
  await answer(ctx)
  ctx.session.step = undefined
  await show(ctx, ctx.t.menu, mainMenu(ctx.t))
})

welcomeFeature.command('help', logHandle('command-help'), (ctx) => reply(ctx, ctx.t.help(ctx.user?.role === 'admin'), ctx.chat.type === 'private' ? backToMenu(ctx.t) : undefined))

privateChat.callbackQuery(MENU.help, logHandle('menu-help'), async (ctx) => {
  await answer(ctx)
  await show(ctx, ctx.t.help(ctx.user?.role === 'admin'), backToMenu(ctx.t))
})

privateChat.command('language', logHandle('command-language'), (ctx) => reply(ctx, ctx.t.chooseLanguage, languageKeyboard(ctx.t)))

privateChat.callbackQuery(MENU.language, logHandle('menu-language'), async (ctx) => {
  await answer(ctx)
  await show(ctx, ctx.t.chooseLanguage, languageKeyboard(ctx.t))
})

privateChat.callbackQuery(/^lang:(fa|en)$/, logHandle('language-set'), async (ctx) => {
  const locale = ctx.match[1] as 'fa' | 'en'
  if (!ctx.user) {
    await answer(ctx)
    return reply(ctx, ctx.t.needStart)
  }
  await setUserLocale(ctx.deps.db, ctx.user.id, locale)
  ctx.user.locale = locale
  useLocale(ctx, locale)
  await answer(ctx)
  await show(ctx, ctx.t.languageSaved, mainMenu(ctx.t))
})
