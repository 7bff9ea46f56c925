/** The message of anything thrown, for logs and developer-facing text. */
export function getErrorMessage(error: unknown): string {
  if (typeof error === 'string') return error
  if (error && typeof error === 'object' && 'message' in error && typeof error.message === 'string') return error.message
  return 'Unknown error'
}

/** Throws a Response with `status` when `condition` is falsy: a route's way to say "bad request" or "not found". */
export function invariantResponse(condition: unknown, message: string, status = 400): asserts condition {
  if (!condition) throw new Response(message, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
}

const REDIRECT_BASE = 'http://flowpanel.invalid'
/**
 * ASCII whitespace and control characters (U+0000 to U+0020 and U+007F, written as "neither printable ASCII nor
 * beyond ASCII"): browsers drop tab, CR and LF anywhere in a URL, and the rest at its ends.
 */
const ASCII_CONTROL_OR_SPACE = /[^!-~\u0080-\uFFFF]/g

/** A path of this site as a browser resolves it: starts with one `/`, and names no other host or scheme. */
function isLocalPath(value: string): boolean {
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return false
  try {
    return new URL(value, REDIRECT_BASE).origin === REDIRECT_BASE
  } catch {
    return false
  }
}

/**
 * A same-site relative path to go back to after a form, or `fallback` for anything else (no open redirects).
 * The value is judged the way a browser reads it (ASCII whitespace and control characters removed, `\` as `/`,
 * dot segments resolved), and every percent-decoded form of it must be a local path as well, since a later hop may
 * decode it once more: `//host`, `/\host`, `/<tab>/host`, `/%09/host`, `/%2F/host`, `javascript:` all fall back.
 * The result is the normalised path (percent-encoded, so it is always a valid Location header).
 */
export function safeRedirectPath(to: FormDataEntryValue | string | null | undefined, fallback = '/'): string {
  if (typeof to !== 'string' || to.length > 2048) return fallback
  const cleaned = to.replace(ASCII_CONTROL_OR_SPACE, '')
  let form = cleaned
  for (let round = 0; round < 4; round++) {
    if (!isLocalPath(form)) return fallback
    let decoded: string
    try {
      decoded = decodeURIComponent(form).replace(ASCII_CONTROL_OR_SPACE, '')
    } catch {
      return fallback
    }
    if (decoded === form) break
    form = decoded
  }
  const url = new URL(cleaned, REDIRECT_BASE)
  const path = url.pathname + url.search + url.hash
  return isLocalPath(path) ? path : fallback
}
