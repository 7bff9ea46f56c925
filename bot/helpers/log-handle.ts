import type { NextFunction } from 'grammy'
import type { BotContext } from '../context.ts'

/** Logs which handler took an update (by a stable id, never the message text). */
export function logHandle(id: string) {
  return (ctx: BotContext, next: NextFunction) => {
    ctx.deps.logger.debug('handle', { handler: id, updateId: ctx.update.update_id, from: ctx.from?.id })
    return next()
  }
}
