import { formatMoney } from '#domain/money.ts'
import type { Locale } from '#db/models.ts'

/** Dates are shown in Iran time for everyone, as on the web pages. */
export const DISPLAY_TIME_ZONE = 'Asia/Tehran'

export interface Format {
  locale: Locale
  money: (amount: bigint | string) => string
  number: (value: number | bigint) => string
  date: (value: Date | string | null) => string
  dateTime: (value: Date | string | null) => string
  /** Bytes as GB with up to two decimals; 0 limit reads as "unlimited" through `limit`. */
  gb: (bytes: bigint | string) => string
}

export function createFormat(locale: Locale, currency: string): Format {
  const numberFormat = new Intl.NumberFormat(locale === 'fa' ? 'fa-IR' : 'en-US', { maximumFractionDigits: 2 })
  const intlLocale = locale === 'fa' ? 'fa-IR-u-ca-persian' : 'en-GB'
  const dateFormat = new Intl.DateTimeFormat(intlLocale, { dateStyle: 'medium', timeZone: DISPLAY_TIME_ZONE })
  const dateTimeFormat = new Intl.DateTimeFormat(intlLocale, { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23', timeZone: DISPLAY_TIME_ZONE })
  const toDate = (v: Date | string) => (v instanceof Date ? v : new Date(v))
  return {
    locale,
    money: (amount) => formatMoney(typeof amount === 'bigint' ? amount : BigInt(amount), { locale, currency }),
    number: (value) => numberFormat.format(value),
    date: (value) => (value === null ? '—' : dateFormat.format(toDate(value))),
    dateTime: (value) => (value === null ? '—' : dateTimeFormat.format(toDate(value))),
    gb: (bytes) => {
      const b = typeof bytes === 'bigint' ? bytes : BigInt(bytes)
      // Hundredths of a GB, exact in bigint, then formatted as a number (small enough by then).
      const hundredths = (b * 100n) / 1024n ** 3n
      return numberFormat.format(Number(hundredths) / 100)
    },
  }
}
