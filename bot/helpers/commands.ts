import type { Message } from 'grammy/types'

/** True for a message that starts with a /command: those go to their handlers even while a step waits for input. */
export function isCommand(message: Message | undefined): boolean {
  return Boolean(message?.entities?.some((e) => e.type === 'bot_command' && e.offset === 0))
}
