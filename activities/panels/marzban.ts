import { z } from 'zod'
import { PanelError } from './errors.ts'
import { PanelHttp, normaliseBaseUrl, parseJson, type HttpResponse } from './http.ts'
import { parsePanelSettings, type MarzbanProtocol, type MarzbanSettings, type PanelConnection } from './settings.ts'
import { loginCacheId, SealedSessionCache, SingleFlight, type CachedSession, type PanelStateStore } from './store.ts'
import type { CreateAccountInput, DeleteOptions, ExtendInput, PanelAccount, PanelAdapter, PanelHealth } from './types.ts'
import { assertOwnerMarker, assertValidPanelUsername, parseOwnerMarker } from './username.ts'
import { healthFromError, validateCreate, validateExtend } from './common.ts'

/**
 * Marzban 0.8.x (REST, bearer token). Behaviour follows shared/contracts/marzban.md:
 * one login per panel shared through the store, re-login once on 401, 409 on create means
 * "look at who owns it", 404 on delete means "already gone".
 */

const UserSchema = z.object({
  username: z.string(),
  status: z.enum(['active', 'disabled', 'limited', 'expired', 'on_hold']),
  used_traffic: z.number(),
  data_limit: z.number().nullable().optional(),
  expire: z.number().nullable().optional(),
  note: z.string().nullable().optional(),
  links: z.array(z.string()).nullable().optional(),
  subscription_url: z.string().nullable().optional(),
})
type MarzbanUser = z.infer<typeof UserSchema>

const UsersPageSchema = z.object({ users: z.array(UserSchema), total: z.number() })
const TokenSchema = z.object({ access_token: z.string().min(1) })
const InboundsSchema = z.record(z.string(), z.array(z.object({ tag: z.string(), protocol: z.string() })))
const SystemSchema = z.object({
  version: z.string(),
  mem_total: z.number().optional(),
  mem_used: z.number().optional(),
  cpu_usage: z.number().optional(),
  total_user: z.number().optional(),
  users_active: z.number().optional(),
  online_users: z.number().optional(),
})
const DetailSchema = z.object({ detail: z.union([z.string(), z.record(z.string(), z.string())]) })

const NOTE_MAX = 500
const INBOUNDS_CACHE_MS = 5 * 60_000
const DEFAULT_TOKEN_TTL_MS = 6 * 3_600_000

export interface MarzbanDeps {
  store: PanelStateStore
  /** Seals the admin token cached in the store. */
  appSecret: string
  now?: () => Date
  /** How long a token is reused before a fresh login (the panel's default lifetime is 24 h). */
  tokenTtlMs?: number
}

export class MarzbanAdapter implements PanelAdapter {
  readonly type = 'marzban' as const
  readonly label: string
  private readonly base: string
  private readonly http: PanelHttp
  private readonly settings: MarzbanSettings
  private readonly tokenKey: string
  private readonly flights = new SingleFlight()
  private readonly now: () => Date
  private readonly tokenTtlMs: number
  private readonly sessions: SealedSessionCache
  private token: CachedSession | undefined
  private inbounds: { at: number; byProtocol: Map<string, string[]> } | undefined

  constructor(
    private readonly connection: PanelConnection,
    private readonly deps: MarzbanDeps,
  ) {
    const { base, label } = normaliseBaseUrl(connection.baseUrl)
    this.base = base
    this.label = `Marzban panel ${label}`
    this.settings = parsePanelSettings('marzban', connection.settings)
    this.http = new PanelHttp({ label: this.label, proxyUrl: connection.proxyUrl, timeoutMs: connection.timeoutMs ?? 10_000 })
    this.tokenKey = `marzban:${loginCacheId(deps.appSecret, base, connection)}:token`
    this.now = deps.now ?? (() => new Date())
    this.tokenTtlMs = deps.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS
    this.sessions = new SealedSessionCache(deps.store, deps.appSecret)
  }

  async close(): Promise<void> {
    await this.http.close()
  }

  // ---- auth ---------------------------------------------------------------------------------

  private async currentToken(): Promise<CachedSession> {
    if (this.token) return this.token
    return this.flights.run('token', async () => {
      const shared = await this.sessions.get(this.tokenKey)
      if (shared) {
        this.token = shared
        return shared
      }
      const fresh = await this.sessions.set(this.tokenKey, await this.login(), this.tokenTtlMs)
      this.token = fresh
      return fresh
    })
  }

  private async forgetToken(stale: CachedSession): Promise<void> {
    if (this.token === stale) this.token = undefined
    await this.sessions.forget(this.tokenKey, stale)
  }

  private async login(): Promise<string> {
    const res = await this.http.send({
      method: 'POST',
      url: this.base + 'api/admin/token',
      form: { username: this.connection.username, password: this.connection.password, grant_type: 'password' },
    })
    if (res.status === 200) {
      const parsed = TokenSchema.safeParse(parseJson(res, this.label, 'the login'))
      if (!parsed.success) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered the login without an access token`, { status: 200 })
      return parsed.data.access_token
    }
    if (res.status === 401 || res.status === 422) {
      throw new PanelError('PANEL_AUTH_FAILED', `${this.label} rejected the admin username or password`, { status: res.status })
    }
    if (res.status === 404) {
      throw new PanelError('PANEL_MISCONFIGURED', `${this.label} has no /api/admin/token (is this a Marzban 0.8 panel?)`, { status: 404 })
    }
    throw this.failure(res, 'the login')
  }

  /** An authenticated call; on 401 logs in once more (another process may already have) and retries once. */
  private async api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, json?: unknown): Promise<HttpResponse> {
    const send = (token: CachedSession) =>
      this.http.send({ method, url: this.base + path, headers: { authorization: `Bearer ${token.value}` }, json })
    const token = await this.currentToken()
    let res = await send(token)
    if (res.status === 401) {
      await this.forgetToken(token)
      res = await send(await this.currentToken())
      if (res.status === 401) {
        throw new PanelError('PANEL_SESSION_EXPIRED', `${this.label} refused a token it had just issued (${method} ${pathOnly(path)})`, { status: 401 })
      }
    }
    if (res.status >= 500) throw this.failure(res, `${method} ${pathOnly(path)}`)
    return res
  }

  private failure(res: HttpResponse, what: string): PanelError {
    const status = res.status
    if (status >= 500) return new PanelError('PANEL_5XX', `${this.label} failed ${what} with HTTP ${status}`, { status })
    let detail: string | Record<string, string> | undefined
    try {
      const parsed = DetailSchema.safeParse(JSON.parse(res.text))
      if (parsed.success) detail = parsed.data.detail
    } catch {
      detail = undefined
    }
    if (detail === undefined) {
      return new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered ${what} with HTTP ${status} and an unexpected body`, { status })
    }
    if (typeof detail === 'object') {
      const fields = Object.entries(detail).map(([k, v]) => `${k}: ${v.replace(/^Value error, /, '')}`)
      const code = 'inbounds' in detail ? 'INBOUND_MISSING' : 'PANEL_VALIDATION'
      return new PanelError(code, `${this.label} rejected ${what}: ${fields.join('; ')}`, { status })
    }
    if (status === 400 && /disabled on your server/i.test(detail)) {
      return new PanelError('INBOUND_MISSING', `${this.label} rejected ${what}: ${detail}`, { status })
    }
    if (status === 403) return new PanelError('PANEL_FORBIDDEN', `${this.label} refused ${what}: ${detail}`, { status })
    if (status === 404) return new PanelError('NOT_FOUND', `${this.label}: ${detail} (${what})`, { status })
    if (status === 400 || status === 422) return new PanelError('PANEL_VALIDATION', `${this.label} rejected ${what}: ${detail}`, { status })
    return new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered ${what} with HTTP ${status}: ${detail}`, { status })
  }

  private parseUser(res: HttpResponse, what: string): MarzbanUser {
    const parsed = UserSchema.safeParse(parseJson(res, this.label, what))
    if (!parsed.success) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered ${what} with an unexpected user shape`, { status: res.status })
    return parsed.data
  }

  // ---- mapping ------------------------------------------------------------------------------

  private toAccount(user: MarzbanUser): PanelAccount {
    const now = this.now().getTime()
    const expiresAt = user.expire ? new Date(user.expire * 1000) : null
    const dataLimitBytes = user.data_limit ?? 0
    let status: PanelAccount['status']
    switch (user.status) {
      case 'disabled':
      case 'limited':
      case 'expired':
        status = user.status
        break
      default:
        // The panel flips active users every ~10 s; report the truth without waiting for it.
        if (expiresAt && expiresAt.getTime() <= now) status = 'expired'
        else if (dataLimitBytes > 0 && user.used_traffic >= dataLimitBytes) status = 'limited'
        else status = 'active'
    }
    return {
      username: user.username,
      status,
      usedBytes: user.used_traffic,
      dataLimitBytes,
      expiresAt,
      subscriptionUrl: this.absoluteSubscriptionUrl(user.subscription_url),
      links: user.links ?? [],
      owner: parseOwnerMarker(user.note),
    }
  }

  private absoluteSubscriptionUrl(raw: string | null | undefined): string | null {
    if (!raw) return null
    if (/^https?:\/\//i.test(raw)) return raw
    return new URL(raw.replace(/^\/+/, ''), this.settings.subscriptionBaseUrl ?? this.base).toString()
  }

  private async inboundsByProtocol(): Promise<Map<string, string[]>> {
    if (this.inbounds && Date.now() - this.inbounds.at < INBOUNDS_CACHE_MS) return this.inbounds.byProtocol
    const res = await this.api('GET', 'api/inbounds')
    if (res.status !== 200) throw this.failure(res, 'the inbound list')
    const parsed = InboundsSchema.safeParse(parseJson(res, this.label, 'the inbound list'))
    if (!parsed.success) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered the inbound list with an unexpected shape`)
    const byProtocol = new Map<string, string[]>()
    for (const [protocol, list] of Object.entries(parsed.data)) {
      if (list.length > 0) byProtocol.set(protocol, list.map((i) => i.tag))
    }
    this.inbounds = { at: Date.now(), byProtocol }
    return byProtocol
  }

  /** proxies + inbounds for a new user, from the panel settings checked against the panel's inbounds. */
  private async userProxies(): Promise<{ proxies: Record<string, Record<string, unknown>>; inbounds: Record<string, string[]> }> {
    const available = await this.inboundsByProtocol()
    const proxies: Record<string, Record<string, unknown>> = {}
    const inbounds: Record<string, string[]> = {}
    const protocolOfTag = new Map<string, string>()
    for (const [protocol, tags] of available) for (const tag of tags) protocolOfTag.set(tag, protocol)
    const known = [...protocolOfTag.keys()].join(', ') || 'none'

    if (this.settings.inbounds) {
      for (const tag of this.settings.inbounds) {
        const protocol = protocolOfTag.get(tag)
        if (!protocol) throw new PanelError('INBOUND_MISSING', `inbound "${tag}" does not exist on ${this.label} (it has: ${known})`)
        ;(inbounds[protocol] ??= []).push(tag)
      }
    }
    const protocols = this.settings.inbounds
      ? Object.keys(inbounds)
      : this.settings.proxies
        ? Object.keys(this.settings.proxies)
        : [...available.keys()]
    for (const protocol of protocols) {
      if (!available.has(protocol)) throw new PanelError('INBOUND_MISSING', `${this.label} has no ${protocol} inbound (it has: ${known})`)
      proxies[protocol] = { ...(this.settings.proxies?.[protocol as MarzbanProtocol] ?? {}) }
    }
    if (protocols.length === 0) throw new PanelError('INBOUND_MISSING', `${this.label} has no inbounds to put users on`)
    return { proxies, inbounds }
  }

  private async fetchUser(username: string): Promise<MarzbanUser | null> {
    const res = await this.api('GET', `api/user/${encodeURIComponent(username)}`)
    if (res.status === 404) return null
    if (res.status !== 200) throw this.failure(res, `the lookup of user ${username}`)
    return this.parseUser(res, `the lookup of user ${username}`)
  }

  private async requireUser(username: string): Promise<MarzbanUser> {
    const user = await this.fetchUser(username)
    if (!user) throw new PanelError('NOT_FOUND', `user ${username} does not exist on ${this.label}`, { status: 404 })
    return user
  }

  private async modify(username: string, body: Record<string, unknown>, what: string): Promise<PanelAccount> {
    const res = await this.api('PUT', `api/user/${encodeURIComponent(username)}`, body)
    if (res.status === 404) throw new PanelError('NOT_FOUND', `user ${username} does not exist on ${this.label} (${what})`, { status: 404 })
    if (res.status !== 200) throw this.failure(res, `${what} of user ${username}`)
    return this.toAccount(this.parseUser(res, `${what} of user ${username}`))
  }

  // ---- operations ---------------------------------------------------------------------------

  async createAccount(input: CreateAccountInput): Promise<PanelAccount> {
    validateCreate(input)
    const note = (input.note ? `${input.owner} ${input.note}` : input.owner).slice(0, NOTE_MAX)
    const { proxies, inbounds } = await this.userProxies()
    const body = {
      username: input.username,
      proxies,
      inbounds,
      expire: input.expiresAt ? Math.floor(input.expiresAt.getTime() / 1000) : 0,
      data_limit: input.dataLimitBytes,
      data_limit_reset_strategy: 'no_reset',
      status: 'active',
      note,
    }
    const res = await this.api('POST', 'api/user', body)
    if (res.status === 200) return this.toAccount(this.parseUser(res, `the creation of user ${input.username}`))
    if (res.status === 409) return this.adoptExisting(input)
    throw this.failure(res, `the creation of user ${input.username}`)
  }

  /** The name is taken: success when it is the user this order made earlier, else a clear refusal. */
  private async adoptExisting(input: CreateAccountInput): Promise<PanelAccount> {
    const res = await this.api('GET', `api/user/${encodeURIComponent(input.username)}`)
    if (res.status === 403) {
      throw new PanelError('USERNAME_TAKEN_BY_OTHER', `username ${input.username} on ${this.label} belongs to another panel admin`, { status: 403 })
    }
    if (res.status === 404) {
      throw new PanelError('PANEL_REJECTED', `${this.label} said user ${input.username} exists, then could not find it`, { status: 404 })
    }
    if (res.status !== 200) throw this.failure(res, `the lookup of user ${input.username}`)
    const account = this.toAccount(this.parseUser(res, `the lookup of user ${input.username}`))
    if (account.owner !== input.owner) {
      throw new PanelError(
        'USERNAME_TAKEN_BY_OTHER',
        `username ${input.username} on ${this.label} already exists and belongs to ${account.owner ?? 'a user flowpanel did not create'}, not ${input.owner}`,
        { status: 409 },
      )
    }
    return account
  }

  async getAccount(username: string): Promise<PanelAccount | null> {
    assertValidPanelUsername(username)
    const user = await this.fetchUser(username)
    return user ? this.toAccount(user) : null
  }

  async extend(input: ExtendInput): Promise<PanelAccount> {
    validateExtend(input)
    const current = await this.requireUser(input.username)
    const body: Record<string, unknown> = {}
    if (input.newExpiresAt !== undefined) {
      body.expire = input.newExpiresAt ? Math.floor(input.newExpiresAt.getTime() / 1000) : 0
    } else if (input.addDays !== undefined && current.expire) {
      const from = Math.max(current.expire * 1000, this.now().getTime())
      body.expire = Math.floor(from / 1000) + Math.round(input.addDays * 86_400)
    }
    if (input.newDataLimitBytes !== undefined) {
      body.data_limit = input.newDataLimitBytes
    } else if (input.addBytes !== undefined && current.data_limit) {
      body.data_limit = current.data_limit + input.addBytes
    }
    if (Object.keys(body).length === 0) return this.toAccount(current)
    return this.modify(input.username, body, 'the extension')
  }

  async disable(username: string): Promise<PanelAccount> {
    assertValidPanelUsername(username)
    return this.modify(username, { status: 'disabled' }, 'disabling')
  }

  async enable(username: string): Promise<PanelAccount> {
    assertValidPanelUsername(username)
    return this.modify(username, { status: 'active' }, 'enabling')
  }

  async resetUsage(username: string): Promise<PanelAccount> {
    assertValidPanelUsername(username)
    const before = await this.requireUser(username)
    const res = await this.api('POST', `api/user/${encodeURIComponent(username)}/reset`)
    if (res.status === 404) throw new PanelError('NOT_FOUND', `user ${username} does not exist on ${this.label} (usage reset)`, { status: 404 })
    if (res.status !== 200) throw this.failure(res, `the usage reset of user ${username}`)
    // Marzban 0.8.4 re-activates disabled users on reset; put the block back.
    if (before.status === 'disabled') return this.modify(username, { status: 'disabled' }, 'disabling after reset')
    return this.toAccount(this.parseUser(res, `the usage reset of user ${username}`))
  }

  async delete(username: string, options: DeleteOptions = {}): Promise<void> {
    assertValidPanelUsername(username)
    if (options.owner !== undefined) {
      assertOwnerMarker(options.owner)
      const res = await this.api('GET', `api/user/${encodeURIComponent(username)}`)
      if (res.status === 404) return
      if (res.status === 403) {
        throw new PanelError('USERNAME_TAKEN_BY_OTHER', `user ${username} on ${this.label} belongs to another panel admin; not deleted`, { status: 403 })
      }
      if (res.status !== 200) throw this.failure(res, `the lookup of user ${username}`)
      const owner = parseOwnerMarker(this.parseUser(res, `the lookup of user ${username}`).note)
      if (owner !== options.owner) {
        throw new PanelError(
          'USERNAME_TAKEN_BY_OTHER',
          `user ${username} on ${this.label} belongs to ${owner ?? 'a user flowpanel did not create'}, not ${options.owner}; not deleted`,
        )
      }
    }
    const res = await this.api('DELETE', `api/user/${encodeURIComponent(username)}`)
    if (res.status === 200 || res.status === 404) return
    throw this.failure(res, `the deletion of user ${username}`)
  }

  async listAccounts(): Promise<PanelAccount[]> {
    const pageSize = 500
    const out: PanelAccount[] = []
    for (let offset = 0; ; offset += pageSize) {
      const res = await this.api('GET', `api/users?offset=${offset}&limit=${pageSize}&sort=username`)
      if (res.status !== 200) throw this.failure(res, 'the user list')
      const parsed = UsersPageSchema.safeParse(parseJson(res, this.label, 'the user list'))
      if (!parsed.success) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered the user list with an unexpected shape`)
      out.push(...parsed.data.users.map((u) => this.toAccount(u)))
      if (parsed.data.users.length < pageSize || offset + pageSize >= parsed.data.total) break
    }
    return out
  }

  async health(): Promise<PanelHealth> {
    const started = performance.now()
    try {
      const res = await this.api('GET', 'api/system')
      if (res.status !== 200) throw this.failure(res, 'the system status')
      const parsed = SystemSchema.safeParse(parseJson(res, this.label, 'the system status'))
      if (!parsed.success) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered the system status with an unexpected shape`)
      const s = parsed.data
      return {
        reachable: true,
        ok: true,
        version: s.version,
        coreVersion: null,
        latencyMs: Math.round(performance.now() - started),
        load: {
          cpuPercent: s.cpu_usage,
          memUsedBytes: s.mem_used,
          memTotalBytes: s.mem_total,
          usersTotal: s.total_user,
          usersActive: s.users_active,
          usersOnline: s.online_users,
        },
      }
    } catch (error) {
      return healthFromError(error, started)
    }
  }
}

function pathOnly(path: string): string {
  return '/' + path.split('?')[0]
}

