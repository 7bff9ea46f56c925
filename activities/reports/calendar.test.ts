import { describe, expect, it } from 'vitest'
import {
  dayRange,
  formatJalaliDateTime,
  gregorianToJalali,
  jalaliMonthLength,
  jalaliToGregorian,
  parseDay,
  wallClock,
  zoneOffset,
} from './calendar.ts'

const icuPersian = new Intl.DateTimeFormat('en-US-u-ca-persian-nu-latn', {
  timeZone: 'UTC',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
})

function icuJalali(utcMidnight: number): { year: number; month: number; day: number } {
  const parts: Record<string, number> = {}
  for (const p of icuPersian.formatToParts(new Date(utcMidnight))) {
    if (p.type === 'year' || p.type === 'month' || p.type === 'day') parts[p.type] = Number(p.value)
  }
  return { year: parts.year!, month: parts.month!, day: parts.day! }
}

describe('Jalali calendar', () => {
  it('converts known dates', () => {
    expect(gregorianToJalali({ year: 2024, month: 3, day: 20 })).toEqual({ year: 1403, month: 1, day: 1 })
    expect(gregorianToJalali({ year: 2025, month: 3, day: 20 })).toEqual({ year: 1403, month: 12, day: 30 })
    expect(gregorianToJalali({ year: 2025, month: 3, day: 21 })).toEqual({ year: 1404, month: 1, day: 1 })
    expect(jalaliToGregorian({ year: 1404, month: 11, day: 11 })).toEqual({ year: 2026, month: 1, day: 31 })
  })

  it('agrees with the ICU Persian calendar on every day from 2000 to 2040', () => {
    const start = Date.UTC(2000, 0, 1)
    const end = Date.UTC(2040, 11, 31)
    for (let t = start; t <= end; t += 86_400_000) {
      const d = new Date(t)
      const ours = gregorianToJalali({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() })
      expect(ours, d.toISOString()).toEqual(icuJalali(t))
      expect(jalaliToGregorian(ours)).toEqual({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() })
    }
  })

  it('knows leap Esfands', () => {
    expect(jalaliMonthLength(1403, 12)).toBe(30)
    expect(jalaliMonthLength(1404, 12)).toBe(29)
    expect(jalaliMonthLength(1404, 1)).toBe(31)
    expect(jalaliMonthLength(1404, 7)).toBe(30)
  })
})

describe('time zones', () => {
  it('uses Tehran time, with the daylight saving Iran had until 2022', () => {
    expect(zoneOffset('Asia/Tehran', Date.UTC(2026, 0, 1))).toBe(3.5 * 3_600_000)
    expect(zoneOffset('Asia/Tehran', Date.UTC(2021, 6, 1))).toBe(4.5 * 3_600_000)
    expect(zoneOffset('UTC', Date.UTC(2021, 6, 1))).toBe(0)
  })

  it('formats a Jalali date and time as people in Tehran see it', () => {
    // 2024-03-19T21:00Z is 00:30 on 1 Farvardin 1403 in Tehran.
    expect(formatJalaliDateTime(new Date('2024-03-19T21:00:00Z'), 'Asia/Tehran')).toBe('1403/01/01 00:30')
    expect(formatJalaliDateTime(new Date('2024-03-19T20:00:00Z'), 'Asia/Tehran')).toBe('1402/12/29 23:30')
    expect(wallClock(new Date('2026-01-31T20:29:00Z'), 'Asia/Tehran').toISOString()).toBe('2026-01-31T23:59:00.000Z')
  })
})

describe('day ranges', () => {
  it('covers whole local days, both ends included', () => {
    const r = dayRange('2026-01-01', '2026-01-31', 'Asia/Tehran')
    expect(r.from.toISOString()).toBe('2025-12-31T20:30:00.000Z')
    expect(r.until.toISOString()).toBe('2026-01-31T20:30:00.000Z')
    const single = dayRange('2026-02-01', '2026-02-01', 'UTC')
    expect(single.until.getTime() - single.from.getTime()).toBe(86_400_000)
  })

  it('reads years before 1700 as Jalali', () => {
    const r = dayRange('1404-11-01', '1404-11-30', 'Asia/Tehran')
    expect(r.fromDay).toEqual({ year: 2026, month: 1, day: 21 })
    expect(r.toDay).toEqual({ year: 2026, month: 2, day: 19 })
  })

  it('refuses bad input with a message that says what is wrong', () => {
    expect(() => parseDay('2026/01/01')).toThrow(/YYYY-MM-DD/)
    expect(() => parseDay('2026-02-30')).toThrow(/no day 30/)
    expect(() => parseDay('1404-12-30')).toThrow(/Jalali month 12 of 1404 has no day 30/)
    expect(() => parseDay('2026-13-01')).toThrow(/no month 13/)
    expect(() => dayRange('2026-02-01', '2026-01-01', 'UTC')).toThrow(/before --from/)
    expect(() => dayRange('2026-01-01', '2026-01-02', 'Mars/Olympus')).toThrow(/not a time zone/)
  })
})
