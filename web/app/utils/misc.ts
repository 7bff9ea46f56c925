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

/** A same-site relative path to go back to after a form, or `fallback` for anything else (no open redirects). */
export function safeRedirectPath(to: FormDataEntryValue | string | null | undefined, fallback = '/'): string {
  if (typeof to !== 'string' || !to.startsWith('/') || to.startsWith('//') || to.startsWith('/\\')) return fallback
  return to
}
