import { createHash, randomBytes } from 'node:crypto'
import type { Db } from './knex.ts'
import type { Role } from './models.ts'

/**
 * Per-agent tokens of the reseller API (`/api/v1`). A token is shown once, when it is made; the database
 * keeps its SHA-256 and a short prefix. Revoked tokens stay listed (with the time) and never work again.
 */
export const API_TOKEN_PREFIX = 'fpk_'
/** Most tokens one agent may hold at once (revoked ones do not count). */
export const MAX_ACTIVE_TOKENS = 10

export interface ApiTokenRow {
  id: number
  userId: number
  name: string
  tokenPrefix: string
  createdAt: Date
  lastUsedAt: Date | null
  revokedAt: Date | null
}

export class ApiTokenError extends Error {
  override name = 'ApiTokenError'
  constructor(
    readonly code: 'INVALID_NAME' | 'TOO_MANY_TOKENS' | 'NOT_AGENT' | 'NOT_FOUND',
    message: string,
  ) {
    super(message)
  }
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

const LIST_COLUMNS = ['id', 'userId', 'name', 'tokenPrefix', 'createdAt', 'lastUsedAt', 'revokedAt'] as const

/** Makes a token for an agent. Returns the plaintext token (the only time it exists outside the caller) and its row. */
export async function createApiToken(db: Db, input: { userId: number; name: string }): Promise<{ token: string; row: ApiTokenRow }> {
  const name = input.name.trim()
  if (name.length < 1 || name.length > 80) throw new ApiTokenError('INVALID_NAME', 'A token name has 1 to 80 characters')
  const token = `${API_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`
  const row = await db.transaction(async (trx) => {
    // The lock on the user row serialises token creation per agent, so the limit holds under concurrency.
    const user: { id: number; role: Role; status: string } | undefined = await trx('users').where({ id: input.userId }).forUpdate().first('id', 'role', 'status')
    if (!user || user.role !== 'agent' || user.status !== 'active') throw new ApiTokenError('NOT_AGENT', 'Only active agents may hold API tokens')
    const active = await trx('apiTokens').where({ userId: user.id }).whereNull('revokedAt').first(trx.raw('count(*)::int as "n"'))
    if (Number(active?.n ?? 0) >= MAX_ACTIVE_TOKENS) {
      throw new ApiTokenError('TOO_MANY_TOKENS', `You already have ${MAX_ACTIVE_TOKENS} active tokens; revoke one first`)
    }
    const [inserted] = await trx('apiTokens')
      .insert({ userId: user.id, name, tokenHash: hashApiToken(token), tokenPrefix: token.slice(0, API_TOKEN_PREFIX.length + 6) })
      .returning([...LIST_COLUMNS])
    return inserted as ApiTokenRow
  })
  return { token, row }
}

export async function listApiTokens(db: Db, userId: number): Promise<ApiTokenRow[]> {
  return db('apiTokens').where({ userId }).orderBy([{ column: 'revokedAt', order: 'desc', nulls: 'first' }, { column: 'id', order: 'desc' }]).select([...LIST_COLUMNS])
}

/** Revokes one of the user's tokens; revoking twice is harmless. False when the token is not theirs. */
export async function revokeApiToken(db: Db, input: { userId: number; tokenId: number }): Promise<boolean> {
  const row = await db('apiTokens').where({ id: input.tokenId, userId: input.userId }).first('id', 'revokedAt')
  if (!row) return false
  if (!row.revokedAt) await db('apiTokens').where({ id: row.id }).whereNull('revokedAt').update({ revokedAt: db.fn.now() })
  return true
}

export interface ApiPrincipal {
  tokenId: number
  userId: number
  username: string
  role: Role
}

/**
 * The agent a bearer token belongs to, or undefined for an unknown, revoked or malformed token, or when the
 * agent is disabled. Records when the token was last used (at most once a minute, to spare the row).
 */
export async function authenticateApiToken(db: Db, token: string): Promise<ApiPrincipal | undefined> {
  if (!token.startsWith(API_TOKEN_PREFIX) || token.length > 200) return undefined
  const row = await db('apiTokens as t')
    .join('users as u', 'u.id', 't.userId')
    .where('t.tokenHash', hashApiToken(token))
    .whereNull('t.revokedAt')
    .first('t.id', 't.userId', 't.lastUsedAt', 'u.username', 'u.role', 'u.status')
  if (!row || row.status !== 'active' || row.role !== 'agent') return undefined
  if (!row.lastUsedAt || Date.now() - new Date(row.lastUsedAt).getTime() > 60_000) {
    await db('apiTokens').where({ id: row.id }).update({ lastUsedAt: db.fn.now() })
  }
  return { tokenId: row.id, userId: row.userId, username: row.username, role: row.role }
}
