import { Agent, ProxyAgent, request, type Dispatcher } from 'undici'
import { displayUrl, PanelError } from './errors.ts'

export interface HttpResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Absolute URL. */
  url: string
  headers?: Record<string, string>
  json?: unknown
  form?: Record<string, string>
}

export interface PanelHttpOptions {
  /** Shown in error messages; never contains credentials. */
  label: string
  proxyUrl?: string | null
  timeoutMs: number
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
])

function errorCode(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/**
 * The HTTP transport shared by both adapters: one connection pool (or proxy tunnel) per panel, a
 * hard deadline per request covering headers and body, no redirects followed, and transport
 * failures turned into retryable PanelErrors that name the panel but never the credentials.
 */
export class PanelHttp {
  private readonly dispatcher: Dispatcher
  private readonly label: string
  private readonly timeoutMs: number

  constructor(options: PanelHttpOptions) {
    this.label = options.label
    this.timeoutMs = options.timeoutMs
    if (options.proxyUrl) {
      let proxy: URL
      try {
        proxy = new URL(options.proxyUrl)
      } catch {
        throw new PanelError('PANEL_MISCONFIGURED', `the HTTP proxy configured for ${this.label} is not a valid URL`)
      }
      if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
        throw new PanelError('PANEL_MISCONFIGURED', `the proxy for ${this.label} must be an http:// or https:// URL (got ${proxy.protocol})`)
      }
      this.dispatcher = new ProxyAgent({ uri: proxy.toString(), connect: { timeout: options.timeoutMs } })
    } else {
      this.dispatcher = new Agent({ keepAliveTimeout: 4_000, connect: { timeout: options.timeoutMs } })
    }
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers }
    let body: string | undefined
    if (req.json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(req.json)
    } else if (req.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(req.form).toString()
    }
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), this.timeoutMs)
    const path = new URL(req.url).pathname
    try {
      const res = await request(req.url, {
        method: req.method,
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: controller.signal,
        maxRedirections: 0,
      })
      const text = await res.body.text()
      return { status: res.statusCode, headers: res.headers, text }
    } catch (error) {
      if (controller.signal.aborted || ['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'].includes(errorCode(error) ?? '')) {
        throw new PanelError('PANEL_TIMEOUT', `${this.label} did not answer ${req.method} ${path} within ${this.timeoutMs} ms`, { cause: error })
      }
      const code = errorCode(error)
      const reason = code && UNREACHABLE_CODES.has(code) ? code : code ?? (error instanceof Error ? error.message : 'network error')
      throw new PanelError('PANEL_UNREACHABLE', `${this.label} is unreachable (${reason})`, { cause: error })
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close()
  }
}

/** Parses a JSON body or reports a bad response that names the panel and the call. */
export function parseJson(res: HttpResponse, label: string, what: string): unknown {
  try {
    return JSON.parse(res.text)
  } catch (error) {
    throw new PanelError('PANEL_BAD_RESPONSE', `${label} answered ${what} with HTTP ${res.status} and a body that is not JSON`, {
      cause: error,
      status: res.status,
    })
  }
}

export function headerValues(res: HttpResponse, name: string): string[] {
  const v = res.headers[name.toLowerCase()]
  if (v === undefined) return []
  return Array.isArray(v) ? v : [v]
}

/** Base URL normalised to end with `/` and stripped of user-info; `label` is the same for messages. */
export function normaliseBaseUrl(raw: string): { base: string; label: string } {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new PanelError('PANEL_MISCONFIGURED', `panel URL "${displayUrl(raw)}" is not a valid URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PanelError('PANEL_MISCONFIGURED', `panel URL must start with http:// or https:// (got ${url.protocol})`)
  }
  url.username = ''
  url.password = ''
  url.search = ''
  url.hash = ''
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  const base = url.toString()
  return { base, label: base }
}
