import { useRouteLoaderData } from '@remix-run/react'
import { useMemo } from 'react'
import { createFormatters, getDictionary, type Dictionary, type Formatters, type Locale } from '~/i18n/index.ts'

export interface RootUser {
  id: number
  username: string
  role: 'admin' | 'agent' | 'customer'
  displayName: string | null
  totpEnabled: boolean
}

/** What the root loader gives every page. */
export interface RootData {
  locale: Locale
  theme: 'dark' | 'light'
  currency: string
  csrfToken: string
  user: RootUser | null
}

export function useRootData(): RootData | undefined {
  return useRouteLoaderData('root') as RootData | undefined
}

export interface I18n {
  t: Dictionary
  locale: Locale
  fmt: Formatters
}

/** The visitor's dictionary and formatters (Persian when the root data is missing, e.g. in an error page). */
export function useI18n(): I18n {
  const data = useRootData()
  const locale = data?.locale ?? 'fa'
  const currency = data?.currency ?? 'IRT'
  return useMemo(() => ({ t: getDictionary(locale), locale, fmt: createFormatters(locale, currency) }), [locale, currency])
}

export function useOptionalUser(): RootUser | null {
  return useRootData()?.user ?? null
}
