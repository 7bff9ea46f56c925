import type { AppLoadContext } from '@remix-run/node'
import { redirect } from '@remix-run/node'
import { Lucia, TimeSpan, type Session, type User } from 'lucia'
import type { Db } from '#db/knex.ts'
import type { Role } from '#db/models.ts'
import { twoFactorRequiredFor } from '#db/security-settings.ts'
import { createSessionAdapter, type SessionAttributes, type SessionUserAttributes } from '#db/sessions.ts'
import { cookieIsSecure } from './cookies.server.ts'

function createLucia(db: Db, secure: boolean) {
  return new Lucia(createSessionAdapter(db), {
    sessionExpiresIn: new TimeSpan(14, 'd'),
    sessionCookie: { name: 'fp_session', expires: true, attributes: { secure, sameSite: 'lax' } },
    getUserAttributes: (attributes) => attributes,
    getSessionAttributes: (attributes) => attributes,
  })
}

declare module 'lucia' {
  interface Register {
    Lucia: ReturnType<typeof createLucia>
    UserId: number
    DatabaseUserAttributes: SessionUserAttributes
    DatabaseSessionAttributes: SessionAttributes
  }
}

export type AppLucia = ReturnType<typeof createLucia>

const luciaByDb = new WeakMap<Db, AppLucia>()

/** One lucia instance per database handle (one per process in production). */
export function getLucia(context: AppLoadContext): AppLucia {
  let lucia = luciaByDb.get(context.db)
  if (!lucia) {
    lucia = createLucia(context.db, cookieIsSecure(context.env))
    luciaByDb.set(context.db, lucia)
  }
  return lucia
}

export interface AuthedUser extends SessionUserAttributes {
  id: number
  sessionId: string
  twoFactorVerified: boolean
}

export interface AuthState {
  user: AuthedUser
  session: Session
  /** A renewed or cleared session cookie to send back, when there is one. */
  setCookie: string | undefined
}

const authByRequest = new WeakMap<Request, Promise<AuthState | { user: null; setCookie: string | undefined }>>()

function toAuthedUser(user: User, session: Session): AuthedUser {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    status: user.status,
    displayName: user.displayName,
    locale: user.locale,
    theme: user.theme,
    totpEnabled: user.totpEnabled,
    sessionId: session.id,
    twoFactorVerified: session.twoFactorVerified,
  }
}

/**
 * The session of this request, validated once per request. Disabled users are signed out on the spot.
 * Renewed sessions come with a fresh cookie in `setCookie`.
 */
export function getAuth(request: Request, context: AppLoadContext): Promise<AuthState | { user: null; setCookie: string | undefined }> {
  let pending = authByRequest.get(request)
  if (!pending) {
    pending = (async () => {
      const lucia = getLucia(context)
      const sessionId = lucia.readSessionCookie(request.headers.get('Cookie') ?? '')
      if (!sessionId) return { user: null, setCookie: undefined }
      const { session, user } = await lucia.validateSession(sessionId)
      if (!session) return { user: null, setCookie: lucia.createBlankSessionCookie().serialize() }
      if (user.status !== 'active') {
        await lucia.invalidateSession(session.id)
        return { user: null, setCookie: lucia.createBlankSessionCookie().serialize() }
      }
      const setCookie = session.fresh ? lucia.createSessionCookie(session.id).serialize() : undefined
      return { user: toAuthedUser(user, session), session, setCookie }
    })()
    authByRequest.set(request, pending)
  }
  return pending
}

/** The signed-in user, or null; a session still waiting for its two-step code counts as signed out. */
export async function getOptionalUser(request: Request, context: AppLoadContext): Promise<AuthedUser | null> {
  const auth = await getAuth(request, context)
  if (!auth.user || (auth.user.totpEnabled && !auth.user.twoFactorVerified)) return null
  return auth.user
}

function currentPath(request: Request): string {
  const url = new URL(request.url)
  return url.pathname + url.search
}

/** Where people who must set up two-step verification are sent (the settings page shows only that). */
export const TWO_FACTOR_SETUP_PATH = '/settings?setup=two-factor'

const setupByRequest = new WeakMap<Request, Promise<boolean>>()

/**
 * Whether the user must set up two-step verification before doing anything else: an admin requires it for their
 * role (/admin/security) and they have not turned it on. Read once per request.
 */
export function owesTwoFactorSetup(request: Request, context: AppLoadContext, user: AuthedUser): Promise<boolean> {
  if (user.totpEnabled || user.role === 'customer') return Promise.resolve(false)
  let pending = setupByRequest.get(request)
  if (!pending) {
    pending = twoFactorRequiredFor(context.db, user.role)
    setupByRequest.set(request, pending)
  }
  return pending
}

/**
 * Redirects to sign-in (or to the two-step code, or to setting two-step up where it is required) unless a fully
 * signed-in user made the request. Only the settings page passes `allowTwoFactorSetup`: it is where the set-up happens.
 */
export async function requireUser(request: Request, context: AppLoadContext, options: { allowTwoFactorSetup?: boolean } = {}): Promise<AuthedUser> {
  const auth = await getAuth(request, context)
  const redirectTo = encodeURIComponent(currentPath(request))
  if (!auth.user) {
    throw redirect(`/login?redirectTo=${redirectTo}`, auth.setCookie ? { headers: { 'Set-Cookie': auth.setCookie } } : undefined)
  }
  if (auth.user.totpEnabled && !auth.user.twoFactorVerified) throw redirect(`/two-factor?redirectTo=${redirectTo}`)
  if (!options.allowTwoFactorSetup && (await owesTwoFactorSetup(request, context, auth.user))) throw redirect(TWO_FACTOR_SETUP_PATH)
  return auth.user
}

/** 403 for a signed-in user of another role: the page's data is never loaded for them. */
export async function requireRole(request: Request, context: AppLoadContext, ...roles: Role[]): Promise<AuthedUser> {
  const user = await requireUser(request, context)
  if (!roles.includes(user.role)) {
    throw new Response(`Unauthorized: required role: ${roles.join(' or ')}`, { status: 403, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
  }
  return user
}

export const requireAdmin = (request: Request, context: AppLoadContext) => requireRole(request, context, 'admin')

export const HOME_BY_ROLE: Record<Role, string> = { admin: '/admin', agent: '/agent', customer: '/customer' }

/** Sends signed-in visitors of sign-in and registration pages to their home. */
export async function requireAnonymous(request: Request, context: AppLoadContext): Promise<void> {
  const user = await getOptionalUser(request, context)
  if (user) throw redirect(HOME_BY_ROLE[user.role])
}

/** Starts a session and returns its cookie. Any session the browser already had is ended first (no fixation). */
export async function startSession(
  request: Request,
  context: AppLoadContext,
  userId: number,
  options: { twoFactorVerified: boolean },
): Promise<string> {
  const lucia = getLucia(context)
  const previous = lucia.readSessionCookie(request.headers.get('Cookie') ?? '')
  if (previous) await lucia.invalidateSession(previous)
  const session = await lucia.createSession(userId, {
    twoFactorVerified: options.twoFactorVerified,
    ip: context.clientIp,
    userAgent: request.headers.get('User-Agent'),
  })
  return lucia.createSessionCookie(session.id).serialize()
}

export async function endSession(request: Request, context: AppLoadContext): Promise<string> {
  const lucia = getLucia(context)
  const sessionId = lucia.readSessionCookie(request.headers.get('Cookie') ?? '')
  if (sessionId) await lucia.invalidateSession(sessionId)
  return lucia.createBlankSessionCookie().serialize()
}

export async function endAllSessions(context: AppLoadContext, userId: number): Promise<string> {
  const lucia = getLucia(context)
  await lucia.invalidateUserSessions(userId)
  return lucia.createBlankSessionCookie().serialize()
}
