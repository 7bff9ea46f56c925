import { formatMoney, type Money } from '#domain/money.ts'
import { en, type Dictionary } from './en.ts'
import { fa } from './fa.ts'

export type Locale = 'fa' | 'en'
export type { Dictionary }

export const LOCALES: readonly Locale[] = ['fa', 'en']
const dictionaries: Record<Locale, Dictionary> = { fa, en }

export function isLocale(value: unknown): value is Locale {
  return value === 'fa' || value === 'en'
}

export function getDictionary(locale: Locale): Dictionary {
  return dictionaries[locale]
}

/** Dates are shown in Iran time for everyone, so server and browser render the same text. */
export const DISPLAY_TIME_ZONE = 'Asia/Tehran'

const intlLocale = (locale: Locale) => (locale === 'fa' ? 'fa-IR-u-ca-persian' : 'en-GB')

export interface Formatters {
  locale: Locale
  number: (value: number | bigint | string) => string
  money: (amount: Money | string | number) => string
  date: (value: Date | string | number | null | undefined) => string
  dateTime: (value: Date | string | number | null | undefined) => string
  /** "3 hours ago" / "in 2 days", in the locale's words and digits. */
  relative: (value: Date | string | number, now?: number) => string
  /** A span in ms as "5 h 12 min". */
  duration: (ms: number) => string
  bytes: (value: bigint | string | number) => string
}

const toDate = (value: Date | string | number) => (value instanceof Date ? value : new Date(value))

/** Builds the formatters for one locale and currency. Persian gets Persian digits and the Jalali calendar. */
export function createFormatters(locale: Locale, currency: string): Formatters {
  const t = getDictionary(locale)
  const numberFormat = new Intl.NumberFormat(locale === 'fa' ? 'fa-IR' : 'en-US')
  const dateFormat = new Intl.DateTimeFormat(intlLocale(locale), { dateStyle: 'medium', timeZone: DISPLAY_TIME_ZONE })
  const dateTimeFormat = new Intl.DateTimeFormat(intlLocale(locale), {
    dateStyle: 'medium',
    timeStyle: 'short',
    hourCycle: 'h23',
    timeZone: DISPLAY_TIME_ZONE,
  })
  const relativeFormat = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' })
  const number = (value: number | bigint | string) => numberFormat.format(typeof value === 'string' ? BigInt(value) : value)
  return {
    locale,
    number,
    money: (amount) => formatMoney(typeof amount === 'bigint' ? amount : BigInt(amount), { locale, currency }),
    date: (value) => (value === null || value === undefined ? '—' : dateFormat.format(toDate(value))),
    dateTime: (value) => (value === null || value === undefined ? '—' : dateTimeFormat.format(toDate(value))),
    relative: (value, now = Date.now()) => {
      const seconds = Math.round((toDate(value).getTime() - now) / 1000)
      const abs = Math.abs(seconds)
      if (abs < 60) return relativeFormat.format(seconds, 'second')
      if (abs < 3600) return relativeFormat.format(Math.round(seconds / 60), 'minute')
      if (abs < 86_400) return relativeFormat.format(Math.round(seconds / 3600), 'hour')
      return relativeFormat.format(Math.round(seconds / 86_400), 'day')
    },
    duration: (ms) => {
      const totalMinutes = Math.max(0, Math.floor(ms / 60_000))
      return t.units.hoursMinutes(number(Math.floor(totalMinutes / 60)), number(totalMinutes % 60))
    },
    bytes: (value) => {
      const n = Number(value)
      const gb = n / 1024 ** 3
      const text = new Intl.NumberFormat(locale === 'fa' ? 'fa-IR' : 'en-US', { maximumFractionDigits: 2 }).format(gb)
      return `${text} ${t.common.gb}`
    },
  }
}
