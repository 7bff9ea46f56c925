import type { Db } from './knex.ts'
import type { Locale, User } from './models.ts'
import { hashNewPassword } from './users.ts'

/** User-row updates the web app makes for the signed-in person: preferences, password, two-step secret. */

export async function getUserById(db: Db, userId: number): Promise<User | undefined> {
  return db('users').where({ id: userId }).first()
}

export async function updateUserPrefs(db: Db, userId: number, prefs: { locale?: Locale; theme?: 'dark' | 'light' }): Promise<void> {
  const patch: Record<string, unknown> = {}
  if (prefs.locale) patch.locale = prefs.locale
  if (prefs.theme) patch.theme = prefs.theme
  if (Object.keys(patch).length === 0) return
  await db('users')
    .where({ id: userId })
    .update({ ...patch, updatedAt: db.fn.now() })
}

/** Stores a new, not yet confirmed TOTP secret (sealed by the caller); two-step stays off until confirmed. */
export async function setPendingTotpSecret(db: Db, userId: number, sealedSecret: string): Promise<void> {
  await db('users').where({ id: userId }).update({ totpSecretEncrypted: sealedSecret, totpEnabled: false, updatedAt: db.fn.now() })
}

export async function setTotpEnabled(db: Db, userId: number, enabled: boolean): Promise<void> {
  const patch = enabled ? { totpEnabled: true } : { totpEnabled: false, totpSecretEncrypted: null }
  await db('users')
    .where({ id: userId })
    .update({ ...patch, updatedAt: db.fn.now() })
}

/** Sets a new password; one the password rule refuses throws UserInputError. */
export async function setPassword(db: Db, userId: number, password: string): Promise<void> {
  await db('users')
    .where({ id: userId })
    .update({ passwordHash: await hashNewPassword(password), updatedAt: db.fn.now() })
}
