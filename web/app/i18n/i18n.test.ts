import { describe, expect, it } from 'vitest'
import { en } from './en.ts'
import { fa } from './fa.ts'
import { createFormatters } from './index.ts'

type Tree = { [key: string]: string | ((...args: string[]) => string) | Tree }

function leaves(tree: Tree, prefix = ''): [string, string | ((...args: string[]) => string)][] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'object' ? leaves(value, `${prefix}${key}.`) : [[`${prefix}${key}`, value] as [string, string | ((...args: string[]) => string)]],
  )
}

/** Keys that are not Persian text on purpose: an acronym and the writing direction. */
const SAME_IN_BOTH = new Set(['audit.where', 'meta.dir'])

describe('dictionaries', () => {
  const enLeaves = new Map(leaves(en as unknown as Tree))
  const faLeaves = new Map(leaves(fa as unknown as Tree))

  it('have exactly the same keys', () => {
    expect([...faLeaves.keys()].sort()).toEqual([...enLeaves.keys()].sort())
  })

  it('translate every string into Persian', () => {
    const untranslated: string[] = []
    for (const [key, enValue] of enLeaves) {
      if (SAME_IN_BOTH.has(key)) continue
      const faValue = faLeaves.get(key)
      const render = (v: typeof enValue | undefined) => (typeof v === 'function' ? v('1', '2') : v)
      const text = render(faValue)
      if (!text || text === render(enValue) || !/[\u0600-\u06FF]/.test(text)) untranslated.push(key)
    }
    expect(untranslated).toEqual([])
  })

  it('mark Persian right-to-left and English left-to-right', () => {
    expect(fa.meta.dir).toBe('rtl')
    expect(en.meta.dir).toBe('ltr')
  })
})

describe('formatters', () => {
  const when = new Date('2026-03-21T08:30:00Z')

  it('write Persian dates in the Jalali calendar with Persian digits', () => {
    const text = createFormatters('fa', 'IRT').date(when)
    expect(text).toContain('۱۴۰۵')
    expect(text).toContain('فروردین')
    expect(text).not.toMatch(/[0-9]/)
  })

  it('write English dates in the Gregorian calendar', () => {
    expect(createFormatters('en', 'IRT').date(when)).toBe('21 Mar 2026')
  })

  it('format money per locale without floats', () => {
    expect(createFormatters('fa', 'IRT').money(1_250_000n)).toBe('۱٬۲۵۰٬۰۰۰ تومان')
    expect(createFormatters('en', 'IRT').money('9007199254740993')).toBe('9,007,199,254,740,993 Toman')
  })

  it('format numbers and durations with the locale digits', () => {
    expect(createFormatters('fa', 'IRT').number(1234)).toBe('۱٬۲۳۴')
    expect(createFormatters('en', 'IRT').duration(3 * 3_600_000 + 5 * 60_000)).toBe('3 h 5 min')
    expect(createFormatters('fa', 'IRT').duration(90 * 60_000)).toBe('۱ ساعت و ۳۰ دقیقه')
  })
})
