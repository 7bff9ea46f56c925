import { randomBytes, randomInt } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import type { Db } from '#db/knex.ts'
import { createUser } from '#db/users.ts'

const NAME_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'

/** `admin-` and six characters that read unambiguously (no 0/o, 1/l). */
export function generatedAdminName(): string {
  return `admin-${Array.from({ length: 6 }, () => NAME_ALPHABET[randomInt(NAME_ALPHABET.length)]).join('')}`
}

/**
 * On the very first start (no admin yet) creates an admin with a random password and returns it, once:
 * it is printed to the terminal (or written to FIRST_ADMIN_FILE, see writeFirstAdminFile) and stored nowhere else
 * in clear. Later starts return undefined. The username is `options.username` (FIRST_ADMIN_USERNAME) or a generated
 * `admin-xxxxxx`: a fixed, well-known name would give a guesser half of the sign-in.
 */
export async function ensureFirstAdmin(db: Db, options: { username?: string } = {}): Promise<{ username: string; password: string } | undefined> {
  const existing = await db('users').where({ role: 'admin' }).first('id')
  if (existing) return undefined
  const taken = async (name: string) => Boolean(await db('users').whereRaw('lower(username) = lower(?)', [name]).first('id'))
  let username = options.username ?? generatedAdminName()
  if (options.username && (await taken(username))) {
    throw new Error(`FIRST_ADMIN_USERNAME "${username}" is already the username of a customer or agent: choose another, or unset it for a generated one`)
  }
  while (await taken(username)) username = generatedAdminName()
  // 18 random bytes → 24 URL-safe characters: easy to paste, impossible to guess.
  const password = randomBytes(18).toString('base64url')
  await createUser(db, { username, password, role: 'admin', locale: 'fa' })
  return { username, password }
}

/**
 * Writes the first admin's credentials to `file`, readable by this process's user only (mode 0600, in a directory
 * of mode 0700 when it makes one), for a deployment whose output is kept in logs (docker compose). The operator
 * reads it once and deletes it.
 */
export async function writeFirstAdminFile(file: string, admin: { username: string; password: string }, signInUrl: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  const text = [
    `flowpanel's first admin, created ${new Date().toISOString()}`,
    `sign in at: ${signInUrl}`,
    `username:   ${admin.username}`,
    `password:   ${admin.password}`,
    'The password works once: change it after signing in, then delete this file.',
    '',
  ].join('\n')
  // A file left by an earlier install (its database since replaced) is overwritten, and its mode fixed.
  await fs.writeFile(file, text, { mode: 0o600 })
  await fs.chmod(file, 0o600)
}
