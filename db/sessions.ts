import { createHash } from 'node:crypto'
import type { Adapter, DatabaseSession, DatabaseUser } from 'lucia'
import type { Db } from './knex.ts'
import type { Locale, Role } from './models.ts'

/**
 * Sessions in our own `sessions` table, shaped as lucia's adapter. Session ids are stored as their SHA-256
 * hash, so a copy of the table cannot be replayed as cookies; lucia only ever sees the raw id it generated.
 */
export interface SessionUserAttributes {
  username: string
  role: Role
  status: 'active' | 'disabled'
  displayName: string | null
  locale: Locale
  theme: 'dark' | 'light'
  totpEnabled: boolean
}

export interface SessionAttributes {
  twoFactorVerified: boolean
  ip: string | null
  userAgent: string | null
}

export function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId).digest('hex')
}

const USER_COLUMNS = ['id', 'username', 'role', 'status', 'displayName', 'locale', 'theme', 'totpEnabled'] as const

interface SessionRow {
  id: string
  userId: number
  expiresAt: Date
  twoFactorVerified: boolean
  ip: string | null
  userAgent: string | null
}

function toDatabaseSession(row: SessionRow, id = row.id): DatabaseSession {
  return {
    id,
    userId: row.userId,
    expiresAt: new Date(row.expiresAt),
    attributes: { twoFactorVerified: row.twoFactorVerified, ip: row.ip, userAgent: row.userAgent },
  }
}

export function createSessionAdapter(db: Db): Adapter {
  return {
    async getSessionAndUser(sessionId): Promise<[DatabaseSession | null, DatabaseUser | null]> {
      const session: SessionRow | undefined = await db('sessions').where({ id: hashSessionId(sessionId) }).first()
      if (!session) return [null, null]
      const user = await db('users').where({ id: session.userId }).first(...USER_COLUMNS)
      if (!user) return [null, null]
      const { id, ...attributes } = user
      return [toDatabaseSession(session, sessionId), { id, attributes }]
    },
    /** Ids returned here are the stored hashes, good for counting and listing, not for invalidating. */
    async getUserSessions(userId) {
      const rows: SessionRow[] = await db('sessions').where({ userId }).orderBy('createdAt')
      return rows.map((row) => toDatabaseSession(row))
    },
    async setSession(session) {
      await db('sessions').insert({
        id: hashSessionId(session.id),
        userId: session.userId,
        expiresAt: session.expiresAt,
        twoFactorVerified: session.attributes.twoFactorVerified,
        ip: session.attributes.ip,
        userAgent: session.attributes.userAgent?.slice(0, 300) ?? null,
      })
    },
    async updateSessionExpiration(sessionId, expiresAt) {
      await db('sessions').where({ id: hashSessionId(sessionId) }).update({ expiresAt })
    },
    async deleteSession(sessionId) {
      await db('sessions').where({ id: hashSessionId(sessionId) }).delete()
    },
    async deleteUserSessions(userId) {
      await db('sessions').where({ userId }).delete()
    },
    async deleteExpiredSessions() {
      await db('sessions').where('expiresAt', '<=', db.fn.now()).delete()
    },
  }
}

export async function countUserSessions(db: Db, userId: number): Promise<number> {
  const row = await db('sessions').where({ userId }).where('expiresAt', '>', db.fn.now()).count<{ count: string }[]>('* as count').first()
  return Number(row?.count ?? 0)
}
