import { describe, expect, it } from 'vitest'
import { formatMoney, InvalidAmountError, MAX_MONEY, parseMoney, parsePositiveMoney, toJson } from './money.ts'

function parseError(input: unknown): InvalidAmountError {
  try {
    parseMoney(input as never)
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidAmountError)
    return error as InvalidAmountError
  }
  throw new Error(`expected ${String(input)} to be refused`)
}

describe('parseMoney', () => {
  it('takes bigints, safe integers and digit strings', () => {
    expect(parseMoney(150_000n)).toBe(150_000n)
    expect(parseMoney(150_000)).toBe(150_000n)
    expect(parseMoney('150000')).toBe(150_000n)
    expect(parseMoney(' -42 ')).toBe(-42n)
    expect(parseMoney('+7')).toBe(7n)
    expect(parseMoney('0')).toBe(0n)
  })

  it('keeps precision beyond 2^53 when given a string', () => {
    expect(parseMoney('9007199254740993')).toBe(9_007_199_254_740_993n)
    expect(parseMoney(MAX_MONEY.toString())).toBe(MAX_MONEY)
  })

  it('accepts thousands separators only where they belong', () => {
    expect(parseMoney('1,250,000')).toBe(1_250_000n)
    expect(parseMoney('۱٬۲۵۰٬۰۰۰')).toBe(1_250_000n)
    expect(parseMoney('١٢٣')).toBe(123n)
    expect(parseError('1,25,000').message).toBe('"1,25,000" is not an amount of money (digits only, e.g. 150000 or 150,000)')
    expect(parseError(',100').code).toBe('INVALID_AMOUNT')
  })

  it('refuses fractions and says amounts have no fractions', () => {
    expect(parseError(1.5).message).toBe('1.5 is not a whole number of minor units; amounts have no fractions')
    expect(parseError('10.50').message).toBe('"10.50" is not a whole number of minor units; amounts have no fractions')
    expect(parseError('۱۰٫۵').message).toContain('amounts have no fractions')
  })

  it('refuses garbage with a clear reason', () => {
    expect(parseError('').message).toBe('the amount is empty')
    expect(parseError('   ').message).toBe('the amount is empty')
    expect(parseError('12abc').message).toContain('"12abc" is not an amount of money')
    expect(parseError('1e6').message).toContain('is not an amount of money')
    expect(parseError(Number.NaN).message).toBe('NaN is not an amount of money')
    expect(parseError(Number.POSITIVE_INFINITY).message).toBe('Infinity is not an amount of money')
    expect(parseError(null).message).toBe('an amount of money must be a string, number or bigint, not null')
    expect(parseError({}).message).toContain('not object')
  })

  it('refuses numbers that cannot be exact and amounts Postgres cannot store', () => {
    expect(parseError(2 ** 60).message).toContain('too large to be exact as a number')
    expect(parseError((MAX_MONEY + 1n).toString()).message).toContain('too large to be an amount of money')
    expect(parseError(MAX_MONEY + 1n).code).toBe('INVALID_AMOUNT')
  })
})

describe('parsePositiveMoney', () => {
  it('refuses zero and negatives, naming the field', () => {
    expect(parsePositiveMoney('5')).toBe(5n)
    expect(() => parsePositiveMoney(0n, 'price')).toThrow('price must be greater than zero, got 0')
    expect(() => parsePositiveMoney('-3')).toThrow('amount must be greater than zero, got -3')
  })
})

describe('formatMoney', () => {
  it('groups thousands with Persian digits and the Toman name in Persian', () => {
    expect(formatMoney(1_250_000n, { locale: 'fa', currency: 'IRT' })).toBe('۱٬۲۵۰٬۰۰۰ تومان')
  })

  it('groups thousands with ASCII digits in English', () => {
    expect(formatMoney(1_250_000n, { locale: 'en', currency: 'IRT' })).toBe('1,250,000 Toman')
    expect(formatMoney(999n, { locale: 'en' })).toBe('999')
    expect(formatMoney(0n, { locale: 'en' })).toBe('0')
  })

  it('formats negative amounts and unknown currencies', () => {
    expect(formatMoney(-1500n, { locale: 'en', currency: 'EUR' })).toBe('-1,500 EUR')
    expect(formatMoney(-1500n, { locale: 'fa', currency: 'IRR' })).toBe('-۱٬۵۰۰ ریال')
  })

  it('round-trips through parseMoney', () => {
    for (const n of [0n, 7n, 1000n, 123_456_789n, -98_765n]) {
      expect(parseMoney(formatMoney(n, { locale: 'fa' }))).toBe(n)
      expect(parseMoney(formatMoney(n, { locale: 'en' }))).toBe(n)
    }
  })
})

describe('toJson', () => {
  it('is a decimal string that parses back exactly', () => {
    const big = 9_007_199_254_740_993n
    expect(toJson(big)).toBe('9007199254740993')
    expect(parseMoney(JSON.parse(JSON.stringify({ a: toJson(big) })).a)).toBe(big)
  })
})
