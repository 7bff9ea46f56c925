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
 *
 * Driving a bot (the fake plays the people who talk to it):
 *   getUpdates (long poll), setWebhook / deleteWebhook / getWebhookInfo, getFile + GET /file/bot<token>/<path>,
 *   editMessageCaption, editMessageReplyMarkup, setMyCommands
 *   tg.person(id, { firstName, languageCode, username })   someone who writes to the bot
 *   tg.group(id, title)                                     a group chat (admin chats)
 *   tg.sendText(from, text, { chat })                       a message (a leading /command gets its entity)
 *   tg.sendPhoto(from, bytes) / tg.sendDocument(from, bytes, { mimeType, fileName })
 *   tg.press(from, message, buttonTextOrData, { chat })     a button press on a message the bot sent
 *   tg.deliver(update)                                      any update: to the webhook if one is set (resolves
 *                                                           with its HTTP status), else queued for getUpdates
 *   tg.buttons(message) / tg.answers(queryId?) / tg.lastText(message)
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

export interface FakePerson {
  id: number
  is_bot: false
  first_name: string
  username?: string
  language_code?: string
}

export interface FakeChat {
  id: number
  type: 'private' | 'group' | 'supergroup'
  title?: string
  first_name?: string
}

export interface FakeButton {
  text: string
  data: string | undefined
  url: string | undefined
}

export interface FakeTelegramOptions {
  token?: string
  port?: number
  latencyMs?: number
  botUsername?: string
}

const SENDING = new Set(['sendMessage', 'sendPhoto', 'sendDocument', 'editMessageText', 'editMessageCaption'])

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
  private flood: { remaining: number; retryAfter: number; match?: (method: string, params: Record<string, unknown>) => boolean } | null = null
  /** Every 429 the fake answered, with when and to which chat. */
  readonly floodAnswers: { at: number; method: string; chatId: string | undefined; retryAfter: number }[] = []
  private nextId = 1
  private readonly queue: Record<string, unknown>[] = []
  private readonly waiters = new Set<() => void>()
  private nextUpdateId = 1
  private nextIncomingMessageId = 1_000_000
  private nextFileId = 1
  private readonly files = new Map<string, { path: string; bytes: Buffer }>()
  private readonly groups = new Map<number, FakeChat>()
  /** Where updates go when set (setWebhook), with the secret sent as X-Telegram-Bot-Api-Secret-Token. */
  webhook: { url: string; secretToken: string | undefined } | null = null
  /** Every update handed to the bot (queued or posted), in order. */
  readonly delivered: Record<string, unknown>[] = []

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
  /** The next `count` sending calls (only those `match` accepts, when given) answer 429 with `retry_after`. */
  floodNext(count: number, retryAfterSeconds = 1, match?: (method: string, params: Record<string, unknown>) => boolean): void {
    this.flood = { remaining: count, retryAfter: retryAfterSeconds, match }
  }
  blockChat(chatId: string | number): void {
    this.blocked.add(String(chatId))
  }
  reset(): void {
    this.calls.length = 0
    this.sent.length = 0
    this.blocked.clear()
    this.flood = null
    this.queue.length = 0
    this.delivered.length = 0
  }

  // ---- people talking to the bot ------------------------------------------------------------------

  person(id: number, options: { firstName?: string; username?: string; languageCode?: string } = {}): FakePerson {
    return {
      id,
      is_bot: false,
      first_name: options.firstName ?? `User${id}`,
      ...(options.username ? { username: options.username } : {}),
      ...(options.languageCode ? { language_code: options.languageCode } : {}),
    }
  }

  group(id: number, title = 'Admins'): FakeChat {
    const chat: FakeChat = { id, type: 'supergroup', title }
    this.groups.set(id, chat)
    return chat
  }

  private chatOf(from: FakePerson, chat?: FakeChat): FakeChat {
    return chat ?? { id: from.id, type: 'private', first_name: from.first_name }
  }

  private incoming(from: FakePerson, chat: FakeChat | undefined, extra: Record<string, unknown>): Record<string, unknown> {
    return { message_id: this.nextIncomingMessageId++, date: Math.floor(Date.now() / 1000), chat: this.chatOf(from, chat), from, ...extra }
  }

  /** A text message to the bot; a leading `/command` is marked as a bot_command entity, as Telegram does. */
  sendText(from: FakePerson, text: string, options: { chat?: FakeChat; replyTo?: FakeTelegramMessage } = {}): Promise<number | undefined> {
    const command = /^\/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?/.exec(text)
    const message = this.incoming(from, options.chat, {
      text,
      ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] } : {}),
      ...(options.replyTo ? { reply_to_message: this.asTelegramMessage(options.replyTo) } : {}),
    })
    return this.deliver({ message })
  }

  /** Stores bytes as a file the bot can fetch with getFile; returns its file_id. */
  addFile(bytes: Buffer, extension: string): { fileId: string; path: string } {
    const n = this.nextFileId++
    const fileId = `file-${n}-${Math.random().toString(36).slice(2, 8)}`
    const path = `${extension === 'pdf' ? 'documents' : 'photos'}/file_${n}.${extension}`
    this.files.set(fileId, { path, bytes })
    return { fileId, path }
  }

  /** A photo message: Telegram sends several sizes; the largest is the uploaded bytes. */
  sendPhoto(from: FakePerson, bytes: Buffer, options: { chat?: FakeChat; caption?: string } = {}): Promise<number | undefined> {
    const { fileId } = this.addFile(bytes, 'jpg')
    const small = this.addFile(bytes.subarray(0, Math.min(bytes.length, 64)), 'jpg')
    const photo = [
      { file_id: small.fileId, file_unique_id: `${small.fileId}-u`, width: 90, height: 60, file_size: Math.min(bytes.length, 64) },
      { file_id: fileId, file_unique_id: `${fileId}-u`, width: 1280, height: 853, file_size: bytes.length },
    ]
    return this.deliver({ message: this.incoming(from, options.chat, { photo, ...(options.caption ? { caption: options.caption } : {}) }) })
  }

  sendDocument(from: FakePerson, bytes: Buffer, options: { chat?: FakeChat; mimeType?: string; fileName?: string } = {}): Promise<number | undefined> {
    const { fileId } = this.addFile(bytes, options.mimeType === 'application/pdf' ? 'pdf' : 'bin')
    const document = { file_id: fileId, file_unique_id: `${fileId}-u`, file_name: options.fileName ?? 'receipt.pdf', mime_type: options.mimeType ?? 'application/pdf', file_size: bytes.length }
    return this.deliver({ message: this.incoming(from, options.chat, { document }) })
  }

  /** The inline buttons of a message as the bot last left it. */
  buttons(message: FakeTelegramMessage): FakeButton[] {
    const markup = message.replyMarkup as { inline_keyboard?: { text: string; callback_data?: string; url?: string }[][] } | null
    return (markup?.inline_keyboard ?? []).flat().map((b) => ({ text: b.text, data: b.callback_data, url: b.url }))
  }

  /** The current text (or caption) of a message the bot sent, after its edits. */
  lastText(message: FakeTelegramMessage): string {
    return message.edits.at(-1) ?? message.text
  }

  /** Presses an inline button (matched by its callback data or its text) on a message the bot sent. */
  press(from: FakePerson, message: FakeTelegramMessage, button: string, options: { chat?: FakeChat } = {}): Promise<number | undefined> {
    const found = this.buttons(message).find((b) => b.data === button || b.text === button)
    if (!found?.data) throw new Error(`message ${message.messageId} has no button "${button}" (it has: ${this.buttons(message).map((b) => b.text).join(', ') || 'none'})`)
    return this.pressData(from, message, found.data, options)
  }

  /** A button press with any callback data (a stale or forged button). */
  pressData(from: FakePerson, message: FakeTelegramMessage, data: string, options: { chat?: FakeChat } = {}): Promise<number | undefined> {
    const queryId = `cbq-${this.nextUpdateId}-${Math.random().toString(36).slice(2, 8)}`
    const chat = options.chat ?? this.groups.get(Number(message.chatId))
    const callback_query = {
      id: queryId,
      from,
      chat_instance: `ci-${message.chatId}`,
      data,
      message: { ...this.asTelegramMessage(message), chat: chat ?? this.chatOf(from) },
    }
    return this.deliver({ callback_query })
  }

  /** What the bot answered to button presses (answerCallbackQuery), optionally for one press. */
  answers(queryId?: string): { queryId: string; text: string | undefined; showAlert: boolean }[] {
    return this.calls
      .filter((c) => c.method === 'answerCallbackQuery' && (queryId === undefined || c.params.callback_query_id === queryId))
      .map((c) => ({ queryId: String(c.params.callback_query_id), text: c.params.text === undefined ? undefined : String(c.params.text), showAlert: c.params.show_alert === true }))
  }

  private asTelegramMessage(m: FakeTelegramMessage): Record<string, unknown> {
    const bot = { id: Number(this.token.split(':')[0]) || 1, is_bot: true, first_name: 'flowpanel', username: this.botUsername }
    const base = { message_id: m.messageId, date: Math.floor(Date.now() / 1000), chat: { id: Number(m.chatId), type: Number(m.chatId) < 0 ? 'supergroup' : 'private' }, from: bot }
    const text = this.lastText(m)
    const body = m.kind === 'text' ? { text } : m.kind === 'photo' ? { photo: [{ file_id: 'sent', file_unique_id: 'sent', width: 512, height: 512 }], caption: text } : { document: { file_id: 'sent', file_unique_id: 'sent' }, caption: text }
    return { ...base, ...body, ...(m.replyMarkup ? { reply_markup: m.replyMarkup } : {}) }
  }

  /**
   * Hands an update to the bot: POSTed to the webhook when one is set (resolves with the HTTP status), else queued
   * for the next getUpdates (resolves undefined). Returns the update id through `delivered`.
   */
  async deliver(update: Record<string, unknown>): Promise<number | undefined> {
    const full = { update_id: this.nextUpdateId++, ...update }
    this.delivered.push(full)
    if (this.webhook) {
      const response = await fetch(this.webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.webhook.secretToken ? { 'X-Telegram-Bot-Api-Secret-Token': this.webhook.secretToken } : {}) },
        body: JSON.stringify(full),
      })
      await response.arrayBuffer()
      return response.status
    }
    this.queue.push(full)
    for (const wake of [...this.waiters]) wake()
    return undefined
  }

  /** Updates waiting for getUpdates. */
  get queued(): number {
    return this.queue.length
  }

  private async getUpdates(params: Record<string, unknown>): Promise<FakeResponse> {
    if (this.webhook) return error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
    const offset = Number(params.offset ?? 0)
    const limit = Math.min(100, Number(params.limit ?? 100))
    const timeoutMs = Math.min(Number(params.timeout ?? 0), 50) * 1000
    const take = () => {
      while (this.queue.length > 0 && Number(this.queue[0]!.update_id) < offset) this.queue.shift()
      return this.queue.slice(0, limit)
    }
    let updates = take()
    if (updates.length === 0 && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer)
          this.waiters.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, timeoutMs)
        this.waiters.add(wake)
      })
      updates = take()
    }
    return json(200, { ok: true, result: updates })
  }

  private getFile(params: Record<string, unknown>): FakeResponse {
    const file = this.files.get(String(params.file_id ?? ''))
    if (!file) return error(400, 'Bad Request: invalid file_id')
    return json(200, { ok: true, result: { file_id: String(params.file_id), file_unique_id: `${String(params.file_id)}-u`, file_size: file.bytes.length, file_path: file.path } })
  }

  private download(path: string): FakeResponse {
    const file = [...this.files.values()].find((f) => f.path === path)
    if (!file) return { status: 404, body: 'Not Found' }
    // The shared fake server writes the body with res.end(), which takes bytes as well as text.
    return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: file.bytes as unknown as string }
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

  handle(req: FakeRequest): FakeResponse | Promise<FakeResponse> {
    const file = /^\/file\/bot([^/]+)\/(.+)$/.exec(req.path)
    if (file) {
      if (file[1] !== this.token) return error(401, 'Unauthorized')
      return this.download(file[2]!)
    }
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
    if (SENDING.has(method) && this.flood && this.flood.remaining > 0 && (!this.flood.match || this.flood.match(method, params))) {
      this.flood.remaining--
      this.floodAnswers.push({ at: Date.now(), method, chatId: params.chat_id === undefined ? undefined : String(params.chat_id), retryAfter: this.flood.retryAfter })
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
      case 'editMessageText':
      case 'editMessageCaption': {
        const target = this.sent.find((s) => s.chatId === chatId && s.messageId === Number(params.message_id))
        if (!target) return error(400, 'Bad Request: message to edit not found')
        if (method === 'editMessageText' && target.kind !== 'text') return error(400, 'Bad Request: there is no text in the message to edit')
        if (method === 'editMessageCaption' && target.kind === 'text') return error(400, 'Bad Request: there is no caption in the message to edit')
        const text = String((method === 'editMessageText' ? params.text : params.caption) ?? '')
        // As on Telegram, an edit without reply_markup removes the inline keyboard.
        const markup = params.reply_markup ?? null
        if (text === (target.edits.at(-1) ?? target.text) && JSON.stringify(markup) === JSON.stringify(target.replyMarkup)) {
          return error(400, 'Bad Request: message is not modified')
        }
        target.edits.push(text)
        target.replyMarkup = markup
        return json(200, { ok: true, result: { message_id: target.messageId, chat: { id: Number(chatId), type: 'private' }, text } })
      }
      case 'editMessageReplyMarkup': {
        const target = this.sent.find((s) => s.chatId === chatId && s.messageId === Number(params.message_id))
        if (!target) return error(400, 'Bad Request: message to edit not found')
        target.replyMarkup = params.reply_markup ?? null
        return json(200, { ok: true, result: { message_id: target.messageId, chat: { id: Number(chatId), type: 'private' } } })
      }
      case 'getUpdates':
        return this.getUpdates(params)
      case 'setWebhook': {
        const url = String(params.url ?? '')
        if (url === '') {
          this.webhook = null
          return json(200, { ok: true, result: true, description: 'Webhook was deleted' })
        }
        this.webhook = { url, secretToken: params.secret_token === undefined ? undefined : String(params.secret_token) }
        return json(200, { ok: true, result: true, description: 'Webhook was set' })
      }
      case 'deleteWebhook':
        this.webhook = null
        return json(200, { ok: true, result: true, description: 'Webhook was deleted' })
      case 'getWebhookInfo':
        return json(200, { ok: true, result: { url: this.webhook?.url ?? '', has_custom_certificate: false, pending_update_count: this.queue.length } })
      case 'getFile':
        return this.getFile(params)
      case 'setMyCommands':
      case 'deleteMyCommands':
        return json(200, { ok: true, result: true })
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
