import { describe, expect, it } from 'vitest'
import { findPasswordProblem, PASSWORD_MIN_LENGTH } from './password.ts'

describe('findPasswordProblem', () => {
  it('refuses a password shorter than ten characters', () => {
    expect(PASSWORD_MIN_LENGTH).toBe(10)
    expect(findPasswordProblem('nine-char')).toBe('passwordTooShort')
    expect(findPasswordProblem('ten-chars!')).toBeNull()
  })

  it('counts characters, not UTF-16 units', () => {
    // Five emoji are ten UTF-16 units but five characters.
    expect(findPasswordProblem('😀😀😀😀😀')).toBe('passwordTooShort')
    expect(findPasswordProblem('گذرواژهٔ‌خوب')).toBeNull()
  })

  it('refuses passwords from the common-password list whatever their case', () => {
    for (const common of ['1234567890', 'qwertyuiop', 'password123', 'PassWord123', '1q2w3e4r5t']) {
      expect(findPasswordProblem(common), common).toBe('passwordCommon')
    }
  })

  it('accepts a long uncommon password and refuses one past 200 characters', () => {
    expect(findPasswordProblem('correct horse battery')).toBeNull()
    expect(findPasswordProblem('x'.repeat(201))).toBe('tooLong')
  })
})
