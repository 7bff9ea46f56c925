/**
 * Structured logs: one JSON object per line on stdout, `{ time, level, service, event, ...fields }`.
 * Secrets never reach a log line: fields whose name looks like a secret are replaced, passwords inside
 * URLs and Telegram bot tokens inside strings are masked.
 */

export const LOG_LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const
export type LogLevel = keyof typeof LOG_LEVELS

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void
  info(event: string, fields?: Record<string, unknown>): void
  warn(event: string, fields?: Record<string, unknown>): void
  error(event: string, fields?: Record<string, unknown>): void
  /** A logger that adds `fields` to every line (a request id, a workflow id). */
  child(fields: Record<string, unknown>): Logger
}

export interface LoggerOptions {
  level?: LogLevel
  service: string
  write?: (line: string) => void
  clock?: () => Date
}

const SECRET_KEY = /pass(word|wd)?$|secret|token|authorization|cookie|api[-_]?key|credential/i

/** Masks `user:password@` in URLs and anything shaped like a Telegram bot token. */
export function redactText(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi, '$1***@').replace(/\b\d{5,}:[A-Za-z0-9_-]{30,}\b/g, '<bot-token>')
}

function redact(value: unknown, key: string | undefined, depth: number): unknown {
  if (key !== undefined && SECRET_KEY.test(key) && value !== null && value !== undefined && value !== '') return '[redacted]'
  if (typeof value === 'string') return redactText(value)
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) }
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'bigint') return value.toString()
  if (value && typeof value === 'object' && depth < 4) {
    if (Array.isArray(value)) return value.map((v) => redact(v, undefined, depth + 1))
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, k, depth + 1)
    return out
  }
  return value
}

export function createLogger(options: LoggerOptions, bound: Record<string, unknown> = {}): Logger {
  const min = LOG_LEVELS[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'))
  const clock = options.clock ?? (() => new Date())
  const log = (level: LogLevel) => (event: string, fields: Record<string, unknown> = {}) => {
    if (LOG_LEVELS[level] < min) return
    const safe = redact({ ...bound, ...fields }, undefined, 0) as Record<string, unknown>
    write(JSON.stringify({ time: clock().toISOString(), level, service: options.service, event: redactText(event), ...safe }))
  }
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  }
}

/** The message of anything thrown, masked like every other logged string. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return redactText(error.message)
  if (typeof error === 'string') return redactText(error)
  return 'unknown error'
}
