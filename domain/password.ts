import { dictionary } from '@zxcvbn-ts/language-common'

/**
 * The rule for a password being set (sign-up, a change, an admin creating a user, the CLI). Passwords set before the
 * rule still sign in: it is checked when a password is chosen, never when one is typed to sign in.
 */
export const PASSWORD_MIN_LENGTH = 10
export const PASSWORD_MAX_LENGTH = 200

/**
 * The common passwords of breach corpora that zxcvbn-ts ships (about 49,000, most common first); only those long
 * enough to pass the length rule can matter. Compared without regard to case.
 */
const COMMON_PASSWORDS = new Set(
  dictionary['passwords-common'].filter((p) => [...p].length >= PASSWORD_MIN_LENGTH).map((p) => p.toLowerCase()),
)

export type PasswordProblem = 'passwordTooShort' | 'passwordCommon' | 'tooLong'

/** What is wrong with `password` as a new password, or null. Length counts characters, not UTF-16 units. */
export function findPasswordProblem(password: string): PasswordProblem | null {
  const length = [...password].length
  if (length < PASSWORD_MIN_LENGTH) return 'passwordTooShort'
  if (length > PASSWORD_MAX_LENGTH) return 'tooLong'
  if (COMMON_PASSWORDS.has(password.toLowerCase())) return 'passwordCommon'
  return null
}

/** The same problems in English, for the CLI and other operator-facing messages. */
export const PASSWORD_PROBLEM_MESSAGES: Record<PasswordProblem, string> = {
  passwordTooShort: `Password must be at least ${PASSWORD_MIN_LENGTH} characters`,
  tooLong: `Password must be at most ${PASSWORD_MAX_LENGTH} characters`,
  passwordCommon: 'Password is on a list of common passwords; choose another',
}
