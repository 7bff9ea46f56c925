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

export async function findUserByUsername(db: Db, username: string): Promise<User | undefined> {
  return db('users').whereRaw('lower(username) = lower(?)', [username]).first()
}

/** The username of a user id, for "decided by …" lines; undefined for an unknown id. */
export async function usernameOf(db: Db, userId: number): Promise<string | undefined> {
  const row = await db('users').where({ id: userId }).first('username')
  return row?.username
}
