import { GrammyError, type InlineKeyboard } from 'grammy'
import type { User } from '#db/models.ts'
import type { BotContext } from '../context.ts'
import type { Html } from '../i18n/html.ts'

/**
 * Shows a screen: a button press edits the message it came from (menus stay one message), anything else gets a
 * new message. When the message cannot be edited (a photo, or too old) a new one is sent instead.
 */
export async function show(ctx: BotContext, text: Html, keyboard?: InlineKeyboard): Promise<void> {
  const options = { parse_mode: 'HTML' as const, reply_markup: keyboard, link_preview_options: { is_disabled: true } }
  if (ctx.callbackQuery?.message && 'text' in ctx.callbackQuery.message) {
    try {
      await ctx.editMessageText(text.value, options)
      return
    } catch (error) {
      if (error instanceof GrammyError && /message is not modified/i.test(error.description)) return
      if (!(error instanceof GrammyError)) throw error
    }
  }
  await ctx.reply(text.value, options)
}

export async function reply(ctx: BotContext, text: Html, keyboard?: InlineKeyboard): Promise<void> {
  await ctx.reply(text.value, { parse_mode: 'HTML', reply_markup: keyboard, link_preview_options: { is_disabled: true } })
}

/** Answers a button press (stops the spinner); errors are ignored, the press may be too old to answer. */
export async function answer(ctx: BotContext, text?: string, alert = false): Promise<void> {
  if (!ctx.callbackQuery) return
  await ctx.answerCallbackQuery({ text: text?.slice(0, 200), show_alert: alert }).catch(() => {})
}

/** The active user behind the update; otherwise tells the person what to do and returns undefined. */
export async function requireUser(ctx: BotContext): Promise<User | undefined> {
  if (!ctx.user) {
    await answer(ctx)
    await reply(ctx, ctx.t.needStart)
    return undefined
  }
  if (ctx.user.status !== 'active') {
    await answer(ctx)
    await reply(ctx, ctx.t.userDisabled)
    return undefined
  }
  return ctx.user
}

export function isPrivate(ctx: BotContext): boolean {
  return ctx.chat?.type === 'private'
}
