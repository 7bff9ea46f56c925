import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Env } from '#config/env.ts'
import { cookieIsSecure, readCookie, serializeCookie } from './cookies.server.ts'

export const CSRF_FIELD = '_csrf'
const CSRF_COOKIE = 'fp_csrf'

function tokenFor(secret: string, cookieValue: string): string {
  return createHmac('sha256', secret).update(`csrf:${cookieValue}`).digest('base64url')
}

/**
 * The CSRF token for this visitor's forms. The browser holds a random value in an httpOnly cookie; forms
 * carry an HMAC of it (signed double submit), which another site can neither read nor compute.
 * Returns the Set-Cookie header to send when the visitor had no cookie yet.
 */
export function issueCsrfToken(request: Request, env: Env): { token: string; setCookie: string | undefined } {
  let value = readCookie(request, CSRF_COOKIE)
  let setCookie: string | undefined
  if (!value || !/^[A-Za-z0-9_-]{32,}$/.test(value)) {
    value = randomBytes(32).toString('base64url')
    setCookie = serializeCookie(CSRF_COOKIE, value, { secure: cookieIsSecure(env) })
  }
  return { token: tokenFor(env.APP_SECRET, value), setCookie }
}

export function isValidCsrf(request: Request, formData: FormData, env: Env): boolean {
  const value = readCookie(request, CSRF_COOKIE)
  const sent = formData.get(CSRF_FIELD)
  if (!value || typeof sent !== 'string') return false
  const expected = Buffer.from(tokenFor(env.APP_SECRET, value))
  const given = Buffer.from(sent)
  return expected.length === given.length && timingSafeEqual(expected, given)
}

/** Throws 403 unless the form carries this visitor's CSRF token. */
export function assertCsrf(request: Request, formData: FormData, env: Env): void {
  if (!isValidCsrf(request, formData, env)) {
    throw new Response('Cross-site request refused: the form token is missing or wrong. Reload the page and try again.', {
      status: 403,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Flowpanel-Error': 'csrf' },
    })
  }
}
