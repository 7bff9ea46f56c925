import { Composer } from 'grammy'
import type { BotContext } from '../context.ts'
import { logHandle } from '../helpers/log-handle.ts'
import { answer, reply } from '../helpers/screen.ts'
import { mainMenu } from '../keyboards/menu.ts'

/** Must be the last feature: anything no other feature took gets a short help answer (and never an error). */
export const unhandledFeature = new Composer<BotContext>()

unhandledFeature.on('callback_query', logHandle('unhandled-callback'), (ctx) => answer(ctx, ctx.t.staleButton))

// In groups (admin chats) the bot stays quiet about messages that are not for it.
unhandledFeature.chatType('private').on('message', logHandle('unhandled-message'), (ctx) => (ctx.user ? reply(ctx, ctx.t.unknown, mainMenu(ctx.t)) : reply(ctx, ctx.t.needStart)))
