import type { AppLoadContext } from '@remix-run/node'
import { createFormatters, getDictionary, type Dictionary, type Formatters, type Locale } from '~/i18n/index.ts'
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

/** Dictionary and formatters for messages an action writes (field errors, results). */
export function i18nFor(
  request: Request,
  context: AppLoadContext,
  user?: { locale: Locale; theme: Theme } | null,
): { t: Dictionary; locale: Locale; fmt: Formatters } {
  const { locale } = resolvePrefs(request, context, user)
  return { t: getDictionary(locale), locale, fmt: createFormatters(locale, context.env.CURRENCY) }
}
