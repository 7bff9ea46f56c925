import type { AppLoadContext } from '@remix-run/node'
import { getDictionary, type Dictionary, type Locale } from '~/i18n/index.ts'
import { readPrefs, type Theme } from './prefs.server.ts'

/** The locale and theme of this request: the signed-in user's, else the visitor's cookie, else the defaults. */
export function resolvePrefs(
  request: Request,
  context: AppLoadContext,
  user?: { locale: Locale; theme: Theme } | null,
): { locale: Locale; theme: Theme } {
  const prefs = readPrefs(request)
  return {
    locale: user?.locale ?? prefs.locale ?? context.env.DEFAULT_LOCALE,
    theme: user?.theme ?? prefs.theme ?? 'dark',
  }
}

export function dictionaryFor(request: Request, context: AppLoadContext, user?: { locale: Locale; theme: Theme } | null): Dictionary {
  return getDictionary(resolvePrefs(request, context, user).locale)
}
