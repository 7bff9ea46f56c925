import type { Env } from '#config/env.ts'
import type { Dictionary } from '../i18n/index.ts'

/**
 * How large a request body may be, per kind of route. The web server (web/request-handler.ts) checks the declared
 * Content-Length before anything reads the body and counts the bytes of a chunked body as they arrive, so no
 * request can make the process hold more than its route's limit.
 */

/** Forms without files: the largest field is the 20 000-character panel settings JSON, percent-encoded. */
export const FORM_BODY_MAX_BYTES = 256 * 1024
/** The reseller API's JSON bodies (an order, a refund) are a few hundred bytes. */
export const API_BODY_MAX_BYTES = 64 * 1024
/** Room for the text fields of a receipt form around the file itself. */
export const UPLOAD_FORM_OVERHEAD_BYTES = 64 * 1024

/** The forms that carry a receipt file (customer.buy, customer.payments._index, agent.wallet). */
const UPLOAD_PATHS = new Set(['/customer/buy', '/customer/payments', '/agent/wallet'])

export type BodyKind = 'form' | 'upload' | 'api'

export interface BodyLimit {
  kind: BodyKind
  maxBytes: number
}

/** What the request handler found out about the body; route code reads it when it reads the body. */
export interface RequestBody extends BodyLimit {
  /** The body is (or has turned out to be, while it arrived) larger than `maxBytes`, and was not read. */
  tooLarge: boolean
}

function routePath(pathname: string): string {
  let path = pathname
  try {
    path = decodeURIComponent(pathname)
  } catch {
    // A malformed escape matches no upload route; the form limit applies.
  }
  // Client-side submissions post to the route's `.data` URL (single fetch); route matching ignores case and a trailing slash.
  return path.toLowerCase().replace(/\.data$/, '').replace(/\/+$/, '') || '/'
}

/** The body limit of the route at `pathname` (the URL path, without the query). */
export function bodyLimitFor(pathname: string, env: Pick<Env, 'RECEIPT_MAX_BYTES'>): BodyLimit {
  const path = routePath(pathname)
  if (path === '/api' || path.startsWith('/api/')) return { kind: 'api', maxBytes: API_BODY_MAX_BYTES }
  if (UPLOAD_PATHS.has(path)) return { kind: 'upload', maxBytes: env.RECEIPT_MAX_BYTES + UPLOAD_FORM_OVERHEAD_BYTES }
  return { kind: 'form', maxBytes: FORM_BODY_MAX_BYTES }
}

const KIB = 1024
const MIB = 1024 * 1024

/** A size for a message: whole or one-decimal megabytes from 1 MiB up, kilobytes below, in the reader's digits. */
export function describeSize(bytes: number, number: (value: number) => string, units: Pick<Dictionary['units'], 'kilobytes' | 'megabytes'>): string {
  if (bytes >= MIB) return units.megabytes(number(Math.round((bytes / MIB) * 10) / 10))
  return units.kilobytes(number(Math.max(1, Math.floor(bytes / KIB))))
}
