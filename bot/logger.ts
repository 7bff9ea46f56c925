/** A small structured logger: one JSON line per event. Nothing logged may hold a token or a receipt. */
export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void
  info(event: string, fields?: Record<string, unknown>): void
  warn(event: string, fields?: Record<string, unknown>): void
  error(event: string, fields?: Record<string, unknown>): void
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const
export type LogLevel = keyof typeof LEVELS

export function createLogger(options: { level?: LogLevel; name?: string; write?: (line: string) => void } = {}): Logger {
  const min = LEVELS[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stdout.write(line + '\n'))
  const log = (level: LogLevel) => (event: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[level] < min) return
    write(JSON.stringify({ at: new Date().toISOString(), level, name: options.name ?? 'bot', event, ...fields }))
  }
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/** The message of anything thrown, with anything that looks like a bot token masked. */
export function getErrorMessage(error: unknown): string {
  let message: string
  if (typeof error === 'string') message = error
  else if (error && typeof error === 'object' && 'message' in error && typeof error.message === 'string') message = error.message
  else message = 'Unknown error'
  return redactToken(message)
}

export function redactToken(text: string): string {
  return text.replace(/\d{5,}:[A-Za-z0-9_-]{20,}/g, '<token>')
}
