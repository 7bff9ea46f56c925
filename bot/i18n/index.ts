import type { Locale } from '#db/models.ts'
import { en, type Messages } from './en.ts'
import { fa } from './fa.ts'
import { createFormat, type Format } from './format.ts'

export type { Messages }
export type { Format }
export const LOCALES: readonly Locale[] = ['fa', 'en']

export function isLocale(value: unknown): value is Locale {
  return value === 'fa' || value === 'en'
}

const cache = new Map<string, { t: Messages; f: Format }>()

/** The texts and formatters of a locale (built once per locale and currency). */
export function getMessages(locale: Locale, currency: string): { t: Messages; f: Format } {
  const key = `${locale}:${currency}`
  let entry = cache.get(key)
  if (!entry) {
    const f = createFormat(locale, currency)
    entry = { t: locale === 'fa' ? fa(f) : en(f), f }
    cache.set(key, entry)
  }
  return entry
}
