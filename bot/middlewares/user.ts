import type { NextFunction } from 'grammy'
import { findUserByTelegramId, localeFromTelegram } from '#db/telegram.ts'
import type { BotContext } from '../context.ts'
import { getMessages } from '../i18n/index.ts'

/** Finds the flowpanel user behind the sender and picks the language: theirs, else what Telegram says, else the default. */
export function attachUser() {
  return async (ctx: BotContext, next: NextFunction): Promise<void> => {
    const from = ctx.from
    ctx.user = from && !from.is_bot ? await findUserByTelegramId(ctx.deps.db, from.id) : undefined
    ctx.locale = ctx.user?.locale ?? localeFromTelegram(from?.language_code, ctx.deps.env.DEFAULT_LOCALE)
    const { t, f } = getMessages(ctx.locale, ctx.deps.env.CURRENCY)
    ctx.t = t
    ctx.f = f
    await next()
  }
}

/** Sets the texts after the user changed language in this update. */
export function useLocale(ctx: BotContext, locale: 'fa' | 'en'): void {
  ctx.locale = locale
  const { t, f } = getMessages(locale, ctx.deps.env.CURRENCY)
  ctx.t = t
  ctx.f = f
}
