import { z } from 'zod'

/**
 * The few Bot API calls the workflows need (sending notifications), over plain HTTP. The bot itself (grammY) lives
 * elsewhere; this client is what activities use, so it can be pointed at a fake Bot API in tests.
 */
export interface InlineButton {
  text: string
  callbackData: string
}

export interface SendMessageInput {
  chatId: string
  text: string
  /** Rows of inline keyboard buttons. */
  buttons?: InlineButton[][]
}

export interface TelegramSender {
  /** False when no bot token is configured: notifications are then recorded as skipped. */
  readonly enabled: boolean
  sendMessage(input: SendMessageInput): Promise<{ messageId: number }>
}

/** A Bot API refusal. `retryAfterMs` is set on 429 (flood control); `permanent` when retrying cannot help (blocked, chat not found). */
export class TelegramError extends Error {
  override name = 'TelegramError'
  constructor(
    message: string,
    readonly status: number | null,
    readonly permanent: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message)
  }
}

const ApiReplySchema = z.object({
  ok: z.boolean(),
  result: z.object({ message_id: z.number() }).passthrough().optional(),
  error_code: z.number().optional(),
  description: z.string().optional(),
  parameters: z.object({ retry_after: z.number().optional() }).passthrough().optional(),
})

export interface TelegramSenderOptions {
  token: string | undefined
  apiRoot: string
  timeoutMs?: number
  fetch?: typeof fetch
}

export function createTelegramSender(options: TelegramSenderOptions): TelegramSender {
  const doFetch = options.fetch ?? fetch
  const token = options.token
  const root = options.apiRoot.replace(/\/+$/, '')
  return {
    enabled: token !== undefined,
    async sendMessage(input) {
      if (token === undefined) throw new TelegramError('no Telegram bot token is configured', null, true)
      const body: Record<string, unknown> = { chat_id: input.chatId, text: input.text, link_preview_options: { is_disabled: true } }
      if (input.buttons?.length) {
        body.reply_markup = { inline_keyboard: input.buttons.map((row) => row.map((b) => ({ text: b.text, callback_data: b.callbackData }))) }
      }
      let response: Response
      try {
        response = await doFetch(`${root}/bot${token}/sendMessage`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
        })
      } catch (error) {
        // The URL holds the token: never put it (or the raw error, which may quote it) in the message.
        throw new TelegramError(`Telegram Bot API unreachable (${error instanceof Error ? error.name : 'error'})`, null, false)
      }
      let reply: z.infer<typeof ApiReplySchema>
      try {
        reply = ApiReplySchema.parse(await response.json())
      } catch {
        throw new TelegramError(`Telegram Bot API answered HTTP ${response.status} without a valid JSON reply`, response.status, false)
      }
      if (reply.ok && reply.result) return { messageId: reply.result.message_id }
      const status = reply.error_code ?? response.status
      const description = reply.description ?? `HTTP ${response.status}`
      if (status === 429) {
        const after = reply.parameters?.retry_after ?? 1
        throw new TelegramError(`Telegram flood control: ${description}`, 429, false, after * 1000)
      }
      // 400 (chat not found, bad request) and 403 (blocked by the user) do not get better by retrying.
      const permanent = status === 400 || status === 403 || status === 401 || status === 404
      throw new TelegramError(`Telegram refused sendMessage to chat ${input.chatId}: ${description}`, status, permanent)
    },
  }
}
