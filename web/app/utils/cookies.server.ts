import type { Env } from '#config/env.ts'

/** Cookies are Secure whenever the site is served over https (PUBLIC_URL decides). */
export function cookieIsSecure(env: Env): boolean {
  return new URL(env.PUBLIC_URL).protocol === 'https:'
}

export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get('Cookie')
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim())
      } catch {
        return undefined
      }
    }
  }
  return undefined
}

export interface CookieOptions {
  maxAgeSeconds?: number
  secure: boolean
  httpOnly?: boolean
}

/** Serialises a cookie with our defaults: Path=/, SameSite=Lax, HttpOnly unless told otherwise. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'SameSite=Lax']
  if (options.httpOnly !== false) parts.push('HttpOnly')
  if (options.secure) parts.push('Secure')
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`)
  return parts.join('; ')
}
