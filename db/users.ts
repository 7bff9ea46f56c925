import { hash, verify } from '@node-rs/argon2'
import { findPasswordProblem, PASSWORD_PROBLEM_MESSAGES } from '#domain/password.ts'
import type { Db } from './knex.ts'
import type { Role, User } from './models.ts'

/** Argon2id with OWASP's second recommended profile (19 MiB, t=2, p=1). */
const ARGON2_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1, outputLen: 32 } as const

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS)
}

/** Hashes a password being set, after checking it against the password rule (UserInputError on `password`). */
export async function hashNewPassword(password: string): Promise<string> {
  const problem = findPasswordProblem(password)
  if (problem) throw new UserInputError('password', PASSWORD_PROBLEM_MESSAGES[problem])
  return hashPassword(password)
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password)
  } catch {
    return false
  }
}

export const USERNAME_PATTERN = /^[a-zA-Z0-9_.-]{3,32}$/

export class UserInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

export interface CreateUserInput {
  username: string
  password?: string
  role: Role
  displayName?: string
  locale?: 'fa' | 'en'
  telegramId?: string
}

/** Creates a user and their wallet in one transaction. Usernames are unique case-insensitively. */
export async function createUser(db: Db, input: CreateUserInput): Promise<User> {
  if (!USERNAME_PATTERN.test(input.username)) {
    throw new UserInputError('username', 'Username must be 3–32 characters: letters, digits, dot, dash or underscore')
  }
  const passwordHash = input.password === undefined ? null : await hashNewPassword(input.password)
  return db.transaction(async (trx) => {
    const taken = await trx('users').whereRaw('lower(username) = lower(?)', [input.username]).first('id')
    if (taken) throw new UserInputError('username', `Username "${input.username}" is already taken`)
    const [user] = await trx('users')
      .insert({
        username: input.username,
        passwordHash,
        role: input.role,
        displayName: input.displayName ?? null,
        locale: input.locale ?? 'fa',
        telegramId: input.telegramId ?? null,
      })
      .returning('*')
    await trx('wallets').insert({ userId: user.id })
    return user as User
  })
}

/**
 * Sets a new password for the user named `username` (any case) from the operator's CLI: the way back in after a lost
 * password, or a first start whose one-time password was never seen. Every session of the user ends; with
 * `resetTwoFactor`, two-step verification is turned off too (a lost authenticator). Writes an audit row.
 */
export async function resetPassword(
  db: Db,
  input: { username: string; password: string; resetTwoFactor: boolean },
): Promise<{ id: number; username: string; role: Role; sessionsEnded: number; twoFactorOn: boolean }> {
  const passwordHash = await hashNewPassword(input.password)
  return db.transaction(async (trx) => {
    const user: User | undefined = await trx('users').whereRaw('lower(username) = lower(?)', [input.username]).forUpdate().first()
    if (!user) throw new UserInputError('username', `no user named "${input.username}"`)
    const patch: Record<string, unknown> = { passwordHash, updatedAt: trx.fn.now() }
    if (input.resetTwoFactor) Object.assign(patch, { totpEnabled: false, totpSecretEncrypted: null })
    await trx('users').where({ id: user.id }).update(patch)
    const sessionsEnded = await trx('sessions').where({ userId: user.id }).delete()
    await trx('auditLog').insert({
      actorUserId: null,
      action: 'auth.password_reset',
      targetType: 'user',
      targetId: String(user.id),
      detail: JSON.stringify({ by: 'cli', twoFactorReset: input.resetTwoFactor, sessionsEnded }),
    })
    return { id: user.id, username: user.username, role: user.role, sessionsEnded, twoFactorOn: user.totpEnabled && !input.resetTwoFactor }
  })
}

export async function findUserByUsername(db: Db, username: string): Promise<User | undefined> {
  return db('users').whereRaw('lower(username) = lower(?)', [username]).first()
}

/** The username of a user id, for "decided by …" lines; undefined for an unknown id. */
export async function usernameOf(db: Db, userId: number): Promise<string | undefined> {
  const row = await db('users').where({ id: userId }).first('username')
  return row?.username
}
