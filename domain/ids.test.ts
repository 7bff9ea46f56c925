import { describe, expect, it } from 'vitest'
import { idSchema, MAX_ID, MAX_PAGE, parseId, parsePage } from './ids.ts'

describe('parseId', () => {
  it('accepts 1 to 2147483647 as digits or as a whole number', () => {
    expect(parseId('1')).toBe(1)
    expect(parseId('2147483647')).toBe(MAX_ID)
    expect(parseId(42)).toBe(42)
    expect(parseId('0042')).toBe(42)
  })

  it('refuses what Postgres integer columns cannot hold and anything that is not plain digits', () => {
    for (const bad of ['2147483648', '99999999999999999999', '0', '-1', '1.5', '1e3', '0x10', '+1', ' 1', '1 ', '', '１', 'NaN', 'Infinity', '1\u0000']) {
      expect(parseId(bad), JSON.stringify(bad)).toBeNull()
    }
    for (const bad of [0, -1, 1.5, 2_147_483_648, Number.NaN, Number.POSITIVE_INFINITY]) expect(parseId(bad), String(bad)).toBeNull()
    expect(parseId(null)).toBeNull()
    expect(parseId(undefined)).toBeNull()
    expect(parseId(['1'])).toBeNull()
  })
})

describe('idSchema', () => {
  it('parses to a number or reports the message given', () => {
    expect(idSchema().parse('7')).toBe(7)
    expect(idSchema().parse(7)).toBe(7)
    expect(idSchema('invalid').safeParse('2147483648').error?.issues[0]?.message).toBe('invalid')
    expect(idSchema('invalid').safeParse(undefined).error?.issues[0]?.message).toBe('invalid')
  })
})

describe('parsePage', () => {
  it('is a page from 1 to MAX_PAGE, and 1 for anything else', () => {
    expect(parsePage('3')).toBe(3)
    expect(parsePage(String(MAX_PAGE))).toBe(MAX_PAGE)
    for (const bad of [null, '', '0', '-2', '2.5', '1e308', String(MAX_PAGE + 1), 'x']) expect(parsePage(bad), String(bad)).toBe(1)
  })
})
