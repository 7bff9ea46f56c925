import { randomBytes } from 'node:crypto'
import type { Db } from '#db/knex.ts'
import { createUser } from '#db/users.ts'

/**
 * On the very first start (no admin yet) creates an admin with a random password and returns it, once:
 * it is printed to the terminal and stored nowhere in clear. Later starts return undefined.
 */
export async function ensureFirstAdmin(db: Db): Promise<{ username: string; password: string } | undefined> {
  const existing = await db('users').where({ role: 'admin' }).first('id')
  if (existing) return undefined
  let username = 'admin'
  for (let i = 2; await db('users').whereRaw('lower(username) = lower(?)', [username]).first('id'); i++) username = `admin${i}`
  // 18 random bytes → 24 URL-safe characters: easy to paste, impossible to guess.
  const password = randomBytes(18).toString('base64url')
  await createUser(db, { username, password, role: 'admin', locale: 'fa' })
  return { username, password }
}
