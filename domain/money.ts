/**
 * Money is an integer number of minor units of the one configured currency (Toman by default), held as
 * `bigint` in TypeScript and `bigint` (int8) in Postgres. Floats never touch money. Across JSON
 * boundaries (Temporal payloads, HTTP, Redis) amounts travel as decimal strings: see `toJson`.
 */
export type Money = bigint

/** Anything `parseMoney` accepts: a bigint, a safe integer number, or a decimal string. */
export type MoneyInput = bigint | number | string

/** The largest amount Postgres int8 can hold. */
export const MAX_MONEY = 9_223_372_036_854_775_807n
export const MIN_MONEY = -9_223_372_036_854_775_808n

export class InvalidAmountError extends Error {
  readonly code = 'INVALID_AMOUNT'
  override readonly name = 'InvalidAmountError'
  constructor(
    message: string,
    readonly input?: unknown,
  ) {
    super(message)
  }
}

const PERSIAN_DIGITS = '۰۱۲۳۴۵۶۷۸۹'
const ARABIC_DIGITS = '٠١٢٣٤٥٦٧٨٩'

/** Persian and Arabic-Indic digits become ASCII digits, so amounts typed on a Persian keyboard parse. */
function toAsciiDigits(text: string): string {
  return text.replace(/[۰-۹٠-٩]/g, (d) => {
    const p = PERSIAN_DIGITS.indexOf(d)
    return String(p >= 0 ? p : ARABIC_DIGITS.indexOf(d))
  })
}

function describe(input: unknown): string {
  if (typeof input === 'string') return JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)
  return String(input)
}

function checkRange(value: bigint, input: unknown): bigint {
  if (value > MAX_MONEY || value < MIN_MONEY) {
    throw new InvalidAmountError(`${describe(input)} is too large to be an amount of money`, input)
  }
  return value
}

/**
 * Parses an amount of money in minor units. Accepts a bigint, a safe integer number, or a string of
 * digits with an optional leading minus and optional thousands separators in the right places
 * (`1,250,000`, `۱٬۲۵۰٬۰۰۰`). Fractions, exponents, NaN, empty strings and anything else are refused
 * with an `InvalidAmountError` that says why.
 */
export function parseMoney(input: MoneyInput): Money {
  if (typeof input === 'bigint') return checkRange(input, input)
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new InvalidAmountError(`${describe(input)} is not an amount of money`, input)
    if (!Number.isInteger(input)) {
      throw new InvalidAmountError(`${describe(input)} is not a whole number of minor units; amounts have no fractions`, input)
    }
    if (!Number.isSafeInteger(input)) {
      throw new InvalidAmountError(`${describe(input)} is too large to be exact as a number; pass it as a string or bigint`, input)
    }
    return BigInt(input)
  }
  if (typeof input !== 'string') {
    throw new InvalidAmountError(`an amount of money must be a string, number or bigint, not ${input === null ? 'null' : typeof input}`, input)
  }
  const text = toAsciiDigits(input.trim())
  if (text === '') throw new InvalidAmountError('the amount is empty', input)
  const m = /^([-+]?)(\d+|\d{1,3}(?:[,٬]\d{3})+)$/.exec(text)
  if (!m) {
    if (/^[-+]?[\d,٬]*[.٫/]\d*$/.test(text)) {
      throw new InvalidAmountError(`${describe(input)} is not a whole number of minor units; amounts have no fractions`, input)
    }
    throw new InvalidAmountError(`${describe(input)} is not an amount of money (digits only, e.g. 150000 or 150,000)`, input)
  }
  const digits = m[2]!.replace(/[,٬]/g, '')
  const value = BigInt(digits)
  return checkRange(m[1] === '-' ? -value : value, input)
}

/** Like `parseMoney`, and the amount must also be greater than zero. `what` names the field in the error. */
export function parsePositiveMoney(input: MoneyInput, what = 'amount'): Money {
  const value = parseMoney(input)
  if (value <= 0n) throw new InvalidAmountError(`${what} must be greater than zero, got ${value}`, input)
  return value
}

/** The JSON form of an amount: a decimal string (JSON numbers lose precision above 2^53). */
export function toJson(amount: Money): string {
  return amount.toString()
}

const CURRENCY_NAMES: Record<string, { fa: string; en: string }> = {
  IRT: { fa: 'تومان', en: 'Toman' },
  IRR: { fa: 'ریال', en: 'Rial' },
  USD: { fa: 'دلار', en: 'USD' },
  USDT: { fa: 'تتر', en: 'USDT' },
}

export interface FormatMoneyOptions {
  locale: 'fa' | 'en'
  /** Currency code, e.g. `IRT` (Toman). Omit to format the number alone. */
  currency?: string
}

/** The display name of a currency code in a locale; unknown codes are shown as they are. */
export function currencyName(currency: string, locale: 'fa' | 'en'): string {
  return CURRENCY_NAMES[currency.toUpperCase()]?.[locale] ?? currency
}

/**
 * Formats an amount for people: thousands grouped, Persian digits and the Arabic thousands separator
 * for `fa` (`۱۲٬۵۰۰ تومان`), ASCII for `en` (`12,500 Toman`).
 */
export function formatMoney(amount: Money, options: FormatMoneyOptions): string {
  const negative = amount < 0n
  const digits = (negative ? -amount : amount).toString()
  const separator = options.locale === 'fa' ? '٬' : ','
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, separator)
  let text = (negative ? '-' : '') + grouped
  if (options.locale === 'fa') text = text.replace(/\d/g, (d) => PERSIAN_DIGITS[Number(d)]!)
  if (options.currency) text += ` ${currencyName(options.currency, options.locale)}`
  return text
}
