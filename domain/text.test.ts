import { describe, expect, it } from 'vitest'
import { assertText, cleanForeignName, findTextProblem, InvalidTextError, multiLineText, nameText, singleLineText, storableText } from './text.ts'

describe('findTextProblem', () => {
  it('accepts ordinary Persian and English text, with the zero-width non-joiner and direction marks', () => {
    expect(findTextProblem('سلام دنیا')).toBeNull()
    expect(findTextProblem('می‌خواهم')).toBeNull()
    expect(findTextProblem('user\u200f @ shop', 'name')).toBeNull()
    expect(findTextProblem('emoji 😀 ok', 'name')).toBeNull()
  })

  it('refuses NUL and every other C0 control, DEL and C1 controls in a single line', () => {
    for (let code = 0; code < 0x20; code++) expect(findTextProblem(`a${String.fromCharCode(code)}b`), `U+${code.toString(16)}`).toBe('controlCharacter')
    expect(findTextProblem('a\u007fb')).toBe('controlCharacter')
    expect(findTextProblem('a\u0085b')).toBe('controlCharacter')
  })

  it('allows line breaks and tabs only in multi-line text, and NUL nowhere', () => {
    expect(findTextProblem('line one\r\nline two\tend', 'multiLine')).toBeNull()
    expect(findTextProblem('line one\nline two', 'singleLine')).toBe('controlCharacter')
    expect(findTextProblem('a\u0000b', 'multiLine')).toBe('controlCharacter')
    expect(findTextProblem('a\u001bb', 'multiLine')).toBe('controlCharacter')
  })

  it('refuses the bidi embedding, override and isolate characters in names', () => {
    for (const c of ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069']) {
      expect(findTextProblem(`plan${c}gpj.exe`, 'name')).toBe('bidiControl')
    }
    expect(findTextProblem('note \u202e text', 'multiLine')).toBeNull()
  })

  it('refuses broken surrogates', () => {
    expect(findTextProblem('a\ud800b')).toBe('brokenText')
    expect(findTextProblem('a\udc00')).toBe('brokenText')
  })
})

describe('text schemas', () => {
  it('trim, bound the length and report the problem in the message given', () => {
    expect(singleLineText({ max: 10 }).parse('  hi  ')).toBe('hi')
    expect(singleLineText({ max: 3 }).safeParse('long').success).toBe(false)
    expect(singleLineText({ max: 10 }).safeParse('   ').success).toBe(false)
    expect(singleLineText({ min: 0, max: 10 }).parse('')).toBe('')
    const refused = nameText({ max: 20, messages: { controlCharacter: 'cc', bidiControl: 'bidi', brokenText: 'broken' } }).safeParse('a\u202eb')
    expect(refused.success).toBe(false)
    expect(refused.error?.issues[0]?.message).toBe('bidi')
    expect(multiLineText({ max: 20 }).parse('a\nb')).toBe('a\nb')
    expect(multiLineText({ max: 20 }).safeParse('a\u0000b').error?.issues[0]?.message).toMatch(/control characters/)
  })

  it('assertText names the field', () => {
    expect(() => assertText('reason', 'a\u0000b')).toThrow(InvalidTextError)
    expect(() => assertText('reason', 'a\u0000b')).toThrow(/^reason must not contain control characters/)
    expect(() => assertText('reason', 'fine')).not.toThrow()
  })
})

describe('storableText', () => {
  it('replaces what Postgres refuses and keeps line breaks, tabs and ordinary text', () => {
    expect(storableText('a\u0000b\u0007c')).toBe('a\ufffdb\ufffdc')
    expect(storableText('one\ntwo\tthree')).toBe('one\ntwo\tthree')
    expect(storableText('x\ud800y')).toBe('x\ufffdy')
    expect(storableText('😀 سلام')).toBe('😀 سلام')
  })
})

describe('cleanForeignName', () => {
  it('drops control and bidi override characters from a name it cannot refuse, and keeps the rest', () => {
    expect(cleanForeignName('Ali\u0000 \u202eRezaei\u202c')).toBe('Ali Rezaei')
    expect(cleanForeignName('علی‌رضا 😀')).toBe('علی‌رضا 😀')
    expect(findTextProblem(cleanForeignName('x\u0007\u2066y\ud800'), 'name')).toBeNull()
  })
})
