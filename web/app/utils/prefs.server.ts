import type { Env } from '#config/env.ts'
import { isLocale, type Locale } from '../i18n/index.ts'
import { cookieIsSecure, readCookie, serializeCookie } from './cookies.server.ts'

export type Theme = 'dark' | 'light'
export interface Prefs {
  locale?: Locale
  theme?: Theme
}

const PREFS_COOKIE = 'fp_prefs'

/** Language and theme of a visitor who is not signed in (signed-in users keep theirs on the user row). */
export function readPrefs(request: Request): Prefs {
  const raw = readCookie(request, PREFS_COOKIE)
  if (!raw) return {}
  const [locale, theme] = raw.split('.')
  return {
    locale: isLocale(locale) ? locale : undefined,
    theme: theme === 'dark' || theme === 'light' ? theme : undefined,
  }
}

export function serializePrefs(prefs: Required<Prefs>, env: Env): string {
  return serializeCookie(PREFS_COOKIE, `${prefs.locale}.${prefs.theme}`, { secure: cookieIsSecure(env), maxAgeSeconds: 400 * 86_400 })
}
