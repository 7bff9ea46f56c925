/**
 * A fake Telegram Bot API: a real HTTP server on 127.0.0.1 answering `POST /bot<token>/<method>` like
 * api.telegram.org (`{ ok, result }` / `{ ok: false, error_code, description, parameters }`).
 *
 *   const tg = await startFakeTelegram({ token: '123:abc' })
 *   tg.apiRoot                      give it as TELEGRAM_API_ROOT
 *   tg.calls                        every call: { method, params, at }
 *   tg.messages(chatId?)            messages sent (sendMessage / sendPhoto / sendDocument), optionally to one chat
 *   tg.floodNext(n, retryAfterSec)  the next n sending calls answer 429 with `retry_after`
 *   tg.blockChat(chatId)            calls to that chat answer 403 "bot was blocked by the user"
 *   knobs from tests/fakes/http.ts: latencyMs, failNext(n, status), down(), up(), close()
 *
 * Methods: getMe, sendMessage, sendPhoto, sendDocument, editMessageText, answerCallbackQuery. Others answer 404
 * "Not Found" as Telegram does. A wrong token answers 401 "Unauthorized".
 */
import { json, startFakeHttp, type FakeHttpServer, type FakeRequest, type FakeResponse } from './http.ts'

export interface FakeTelegramCall {
  method: string
  params: Record<string, unknown>
  at: number
}

export interface FakeTelegramMessage {
  messageId: number
  chatId: string
  kind: 'text' | 'photo' | 'document'
  text: string
  replyMarkup: unknown
  edits: string[]
}

export interface FakeTelegramOptions {
  token?: string
  port?: number
  latencyMs?: number
  botUsername?: string
}

const SENDING = new Set(['sendMessage', 'sendPhoto', 'sendDocument', 'editMessageText'])

function parseParams(req: FakeRequest): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '')
  if (req.body === '') return Object.fromEntries(req.query)
  if (type.includes('application/json')) return JSON.parse(req.body) as Record<string, unknown>
  if (type.includes('application/x-www-form-urlencoded')) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of new URLSearchParams(req.body)) out[k] = tryJson(v)
    return out
  }
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type)
  if (type.includes('multipart/form-data') && boundary) {
    const out: Record<string, unknown> = {}
    for (const part of req.body.split(`--${boundary[1] ?? boundary[2]}`)) {
      const m = /name="([^"]+)"(?:; filename="([^"]*)")?[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n([\s\S]*)\r\n$/.exec(part)
      if (m) out[m[1]!] = m[2] !== undefined ? { file: m[2] } : tryJson(m[3]!)
    }
    return out
  }
  return {}
}

function tryJson(v: string): unknown {
  if (/^[[{]/.test(v)) {
    try {
      return JSON.parse(v)
    } catch {
      return v
    }
  }
  return v
}

function error(code: number, description: string, parameters?: Record<string, unknown>): FakeResponse {
  return json(code, { ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) })
}

export class FakeTelegram {
  readonly calls: FakeTelegramCall[] = []
  private readonly sent: FakeTelegramMessage[] = []
  private readonly blocked = new Set<string>()
  private flood: { remaining: number; retryAfter: number } | null = null
  private nextId = 1

  constructor(
    readonly server: FakeHttpServer,
    readonly token: string,
    private readonly botUsername: string,
  ) {}

  get apiRoot(): string {
    return this.server.url
  }
  get latencyMs(): number {
    return this.server.latencyMs
  }
  set latencyMs(ms: number) {
    this.server.latencyMs = ms
  }
  messages(chatId?: string | number): FakeTelegramMessage[] {
    return chatId === undefined ? [...this.sent] : this.sent.filter((m) => m.chatId === String(chatId))
  }
  floodNext(count: number, retryAfterSeconds = 1): void {
    this.flood = { remaining: count, retryAfter: retryAfterSeconds }
  }
  blockChat(chatId: string | number): void {
    this.blocked.add(String(chatId))
  }
  reset(): void {
    this.calls.length = 0
    this.sent.length = 0
    this.blocked.clear()
    this.flood = null
  }
  failNext(count: number, status = 500): void {
    this.server.failNext(count, status)
  }
  down(): Promise<void> {
    return this.server.down()
  }
  up(): Promise<void> {
    return this.server.up()
  }
  close(): Promise<void> {
    return this.server.close()
  }

  handle(req: FakeRequest): FakeResponse {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.path)
    if (!m) return error(404, 'Not Found')
    if (m[1] !== this.token) return error(401, 'Unauthorized')
    const method = m[2]!
    let params: Record<string, unknown>
    try {
      params = parseParams(req)
    } catch {
      return error(400, "Bad Request: can't parse JSON object")
    }
    this.calls.push({ method, params, at: Date.now() })
    if (SENDING.has(method) && this.flood && this.flood.remaining > 0) {
      this.flood.remaining--
      return error(429, `Too Many Requests: retry after ${this.flood.retryAfter}`, { retry_after: this.flood.retryAfter })
    }
    const chatId = params.chat_id === undefined ? undefined : String(params.chat_id)
    if (chatId !== undefined && this.blocked.has(chatId)) return error(403, 'Forbidden: bot was blocked by the user')
    switch (method) {
      case 'getMe':
        return json(200, { ok: true, result: { id: Number(this.token.split(':')[0]) || 1, is_bot: true, first_name: 'flowpanel', username: this.botUsername, can_join_groups: false, can_read_all_group_messages: false, supports_inline_queries: false } })
      case 'sendMessage':
      case 'sendPhoto':
      case 'sendDocument': {
        if (!chatId) return error(400, 'Bad Request: chat_id is empty')
        const text = String(method === 'sendMessage' ? (params.text ?? '') : (params.caption ?? ''))
        if (method === 'sendMessage' && text.trim() === '') return error(400, 'Bad Request: message text is empty')
        const message: FakeTelegramMessage = {
          messageId: this.nextId++,
          chatId,
          kind: method === 'sendMessage' ? 'text' : method === 'sendPhoto' ? 'photo' : 'document',
          text,
          replyMarkup: params.reply_markup ?? null,
          edits: [],
        }
        this.sent.push(message)
        return json(200, { ok: true, result: { message_id: message.messageId, date: Math.floor(Date.now() / 1000), chat: { id: Number(chatId), type: 'private' }, text } })
      }
      case 'editMessageText': {
        const target = this.sent.find((s) => s.chatId === chatId && s.messageId === Number(params.message_id))
        if (!target) return error(400, 'Bad Request: message to edit not found')
        const text = String(params.text ?? '')
        if (text === (target.edits.at(-1) ?? target.text)) return error(400, 'Bad Request: message is not modified')
        target.edits.push(text)
        return json(200, { ok: true, result: { message_id: target.messageId, chat: { id: Number(chatId), type: 'private' }, text } })
      }
      case 'answerCallbackQuery':
        if (!params.callback_query_id) return error(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid')
        return json(200, { ok: true, result: true })
      default:
        return error(404, 'Not Found')
    }
  }
}

export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  const holder: { fake?: FakeTelegram } = {}
  const server = await startFakeHttp((req) => holder.fake!.handle(req), {
    port: options.port,
    latencyMs: options.latencyMs,
    errorBody: (status) => error(status, status === 502 ? 'Bad Gateway' : 'Internal Server Error'),
  })
  holder.fake = new FakeTelegram(server, options.token ?? '123456:TEST-token', options.botUsername ?? 'flowpanel_test_bot')
  return holder.fake
}
