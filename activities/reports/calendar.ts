/**
 * Calendar arithmetic for reports, with no I/O: the Jalali (Solar Hijri) calendar, wall-clock time in
 * an IANA time zone, and `YYYY-MM-DD` day ranges. The Jalali conversion is the 33-year-cycle
 * algorithm with the published break years (valid for Jalali years -61 … 3177), the same one Iran's
 * calendar tables use; it is cross-checked against the ICU Persian calendar in calendar.test.ts.
 */

const BREAKS = [-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324, 2394, 2456, 3178]

const div = (a: number, b: number) => Math.trunc(a / b)
const mod = (a: number, b: number) => a - Math.trunc(a / b) * b

export interface CalendarDate {
  year: number
  month: number
  day: number
}

function jalCal(jy: number): { leap: number; gy: number; march: number } {
  const gy = jy + 621
  let leapJ = -14
  let jp = BREAKS[0]!
  let jump = 0
  if (jy < jp || jy >= BREAKS[BREAKS.length - 1]!) throw new RangeError(`Jalali year ${jy} is outside the supported range`)
  for (let i = 1; i < BREAKS.length; i++) {
    const jm = BREAKS[i]!
    jump = jm - jp
    if (jy < jm) break
    leapJ += div(jump, 33) * 8 + div(mod(jump, 33), 4)
    jp = jm
  }
  let n = jy - jp
  leapJ += div(n, 33) * 8 + div(mod(n, 33) + 3, 4)
  if (mod(jump, 33) === 4 && jump - n === 4) leapJ += 1
  const leapG = div(gy, 4) - div((div(gy, 100) + 1) * 3, 4) - 150
  const march = 20 + leapJ - leapG
  if (jump - n < 6) n = n - jump + div(jump + 4, 33) * 33
  let leap = mod(mod(n + 1, 33) - 1, 4)
  if (leap === -1) leap = 4
  return { leap, gy, march }
}

/** Julian day number of a Gregorian date. */
function g2d(gy: number, gm: number, gd: number): number {
  const d = div((gy + div(gm - 8, 6) + 100100) * 1461, 4) + div(153 * mod(gm + 9, 12) + 2, 5) + gd - 34840408
  return d - div(div(gy + 100100 + div(gm - 8, 6), 100) * 3, 4) + 752
}

function d2g(jdn: number): CalendarDate {
  let j = 4 * jdn + 139361631
  j = j + div(div(4 * jdn + 183187720, 146097) * 3, 4) * 4 - 3908
  const i = div(mod(j, 1461), 4) * 5 + 308
  const day = div(mod(i, 153), 5) + 1
  const month = mod(div(i, 153), 12) + 1
  const year = div(j, 1461) - 100100 + div(8 - month, 6)
  return { year, month, day }
}

function d2j(jdn: number): CalendarDate {
  const gy = d2g(jdn).year
  let jy = gy - 621
  const r = jalCal(jy)
  let k = jdn - g2d(gy, 3, r.march)
  if (k >= 0) {
    if (k <= 185) return { year: jy, month: 1 + div(k, 31), day: mod(k, 31) + 1 }
    k -= 186
  } else {
    jy -= 1
    k += 179
    if (r.leap === 1) k += 1
  }
  return { year: jy, month: 7 + div(k, 30), day: mod(k, 30) + 1 }
}

function j2d(jy: number, jm: number, jd: number): number {
  const r = jalCal(jy)
  return g2d(r.gy, 3, r.march) + (jm - 1) * 31 - div(jm, 7) * (jm - 7) + jd - 1
}

export function gregorianToJalali(date: CalendarDate): CalendarDate {
  return d2j(g2d(date.year, date.month, date.day))
}

export function jalaliToGregorian(date: CalendarDate): CalendarDate {
  return d2g(j2d(date.year, date.month, date.day))
}

export function jalaliMonthLength(year: number, month: number): number {
  if (month <= 6) return 31
  if (month <= 11) return 30
  return jalCal(year).leap === 0 ? 30 : 29
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>()

/** Checks an IANA zone name; throws a RangeError naming it when the runtime does not know it. */
export function assertTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone })
  } catch {
    throw new RangeError(`"${timeZone}" is not a time zone (use an IANA name such as Asia/Tehran or UTC)`)
  }
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = offsetFormatters.get(timeZone)
  if (!f) {
    assertTimeZone(timeZone)
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    offsetFormatters.set(timeZone, f)
  }
  return f
}

const QUARTER_HOUR = 15 * 60_000
const offsetCache = new Map<string, Map<number, number>>()

/**
 * The zone's offset from UTC in milliseconds at an instant. Offsets and their transitions fall on
 * quarter hours, so one Intl call per zone and quarter hour is enough: a 100,000-row export makes
 * only a handful.
 */
export function zoneOffset(timeZone: string, epochMs: number): number {
  let byBucket = offsetCache.get(timeZone)
  if (!byBucket) {
    byBucket = new Map()
    offsetCache.set(timeZone, byBucket)
  }
  const bucket = Math.floor(epochMs / QUARTER_HOUR)
  const cached = byBucket.get(bucket)
  if (cached !== undefined) return cached
  const start = bucket * QUARTER_HOUR
  const parts: Record<string, number> = {}
  for (const p of formatterFor(timeZone).formatToParts(new Date(start))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value)
  }
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!)
  const offset = asUtc - start
  if (byBucket.size > 10_000) byBucket.clear()
  byBucket.set(bucket, offset)
  return offset
}

/**
 * The wall-clock time in `timeZone` at `date`, as a Date whose UTC fields carry it. Excel cells have no
 * time zone, so this is what an en report writes for people to read.
 */
export function wallClock(date: Date, timeZone: string): Date {
  return new Date(date.getTime() + zoneOffset(timeZone, date.getTime()))
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** `1403/01/01 14:05`: the Jalali date and 24-hour time in `timeZone`, with ASCII digits. */
export function formatJalaliDateTime(date: Date, timeZone: string): string {
  const local = wallClock(date, timeZone)
  const j = gregorianToJalali({ year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() })
  return `${j.year}/${pad(j.month)}/${pad(j.day)} ${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}`
}

export function formatJalaliDate(date: CalendarDate): string {
  return `${date.year}/${pad(date.month)}/${pad(date.day)}`
}

/** The UTC instant at which the local day `date` (Gregorian) starts in `timeZone`. */
export function startOfLocalDay(date: CalendarDate, timeZone: string): Date {
  const guess = Date.UTC(date.year, date.month - 1, date.day)
  let instant = guess - zoneOffset(timeZone, guess)
  const corrected = guess - zoneOffset(timeZone, instant)
  if (corrected !== instant) instant = corrected
  return new Date(instant)
}

/**
 * Parses `YYYY-MM-DD`. Years before 1700 are read as Jalali (`1403-01-01` is Nowruz 2024), so Persian
 * admins can type the dates they know; the result is always the Gregorian date.
 */
export function parseDay(text: string, what = 'date'): CalendarDate & { calendar: 'gregorian' | 'jalali' } {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text.trim())
  if (!m) throw new RangeError(`${what} "${text}" must be written YYYY-MM-DD (e.g. 2026-01-31 or 1404-11-11)`)
  const year = Number(m[1])
  const month = Number(m[2])
  const day = Number(m[3])
  if (month < 1 || month > 12) throw new RangeError(`${what} "${text}" has no month ${month}`)
  if (year < 1700) {
    if (day < 1 || day > jalaliMonthLength(year, month)) throw new RangeError(`${what} "${text}": Jalali month ${month} of ${year} has no day ${day}`)
    return { ...jalaliToGregorian({ year, month, day }), calendar: 'jalali' }
  }
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate()
  if (day < 1 || day > daysInMonth) throw new RangeError(`${what} "${text}": month ${month} of ${year} has no day ${day}`)
  return { year, month, day, calendar: 'gregorian' }
}

export interface DayRange {
  /** First instant included. */
  from: Date
  /** First instant after the range: the start of the day after `to`. */
  until: Date
  fromDay: CalendarDate
  toDay: CalendarDate
}

/** The instants covered by the local days `from` … `to`, both included. */
export function dayRange(from: string, to: string, timeZone: string): DayRange {
  assertTimeZone(timeZone)
  const fromDay = parseDay(from, '--from')
  const toDay = parseDay(to, '--to')
  const start = startOfLocalDay(fromDay, timeZone)
  const next = new Date(Date.UTC(toDay.year, toDay.month - 1, toDay.day + 1))
  const until = startOfLocalDay({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() }, timeZone)
  if (until.getTime() <= start.getTime()) throw new RangeError(`--to (${to}) is before --from (${from})`)
  return { from: start, until, fromDay: { year: fromDay.year, month: fromDay.month, day: fromDay.day }, toDay: { year: toDay.year, month: toDay.month, day: toDay.day } }
}
