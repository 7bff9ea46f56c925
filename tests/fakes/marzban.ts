/**
 * A fake Marzban 0.8.4 panel: a real HTTP server on 127.0.0.1 that follows
 * shared/contracts/marzban.md (routes, status codes, `{"detail": …}` bodies, flattened 422s,
 * case-insensitive usernames, 0-in/null-out units, PUT recomputation order, reset bug…).
 *
 *   const panel = await startFakeMarzban({ latencyMs: 0 })
 *   panel.url                      base URL to give the adapter (credentials admin / admin)
 *   panel.users()                  every user as the API would return it (UserResponse JSON)
 *   panel.user('fp_1')             one user or undefined
 *   panel.counts                   { login, create, modify, delete, reset } calls that reached the handler
 *   panel.seedUser({...})          put a user in place (e.g. a foreign one; `admin` picks the owner)
 *   panel.setUsage(name, bytes)    set used traffic;  panel.advance(ms) moves the panel clock
 *   panel.tick()                   the 10-s review job: active → limited / expired
 *   panel.expireTokens()           every issued token becomes invalid (401 on next use)
 *   knobs (from tests/fakes/http.ts): latencyMs, hang, failNext(n, status, pathIncludes), down(), up(), close()
 *
 * Standalone: `tsx tests/fakes/marzban.ts --port 8000 [--username admin --password admin]`.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { cliFlag, FakeServerControls, json, parseForm, startFakeHttp, type FakeHttpServer, type FakeRequest, type FakeResponse } from './http.ts'

export interface FakeMarzbanAdmin {
  username: string
  password: string
  sudo?: boolean
}

export interface FakeMarzbanInbound {
  tag: string
  network?: string
  tls?: string
  port?: number
}

export interface FakeMarzbanOptions {
  port?: number
  latencyMs?: number
  /** Default: one sudo admin `admin` / `admin`. */
  admins?: FakeMarzbanAdmin[]
  /** Inbounds per protocol. Default: vless `VLESS TCP REALITY`, vmess `VMess TCP`. */
  inbounds?: Record<string, FakeMarzbanInbound[]>
  /** XRAY_SUBSCRIPTION_URL_PREFIX; default '' gives relative `/sub/<token>` URLs, as on a stock install. */
  subscriptionUrlPrefix?: string
  /** JWT_ACCESS_TOKEN_EXPIRE_MINUTES in seconds; default 24 h. */
  tokenTtlSeconds?: number
  version?: string
}

type Status = 'active' | 'disabled' | 'limited' | 'expired' | 'on_hold'

interface StoredUser {
  username: string
  admin: string
  proxies: Record<string, Record<string, unknown>>
  inbounds: Record<string, string[]>
  expire: number | null
  dataLimit: number | null
  dataLimitResetStrategy: string
  status: Status
  note: string | null
  usedTraffic: number
  lifetimeUsed: number
  createdAt: number
  onlineAt: number | null
  onHoldExpireDuration: number | null
  onHoldTimeout: string | null
  autoDeleteInDays: number | null
  nextPlan: unknown
  subRevokedAt: number
}

export interface SeedMarzbanUser {
  username: string
  admin?: string
  note?: string | null
  status?: Status
  expire?: number | null
  dataLimit?: number | null
  usedTraffic?: number
  proxies?: Record<string, Record<string, unknown>>
}

const USERNAME_RULE = /^(?=\w{3,32}\b)[a-zA-Z0-9-_@.]+(?:_[a-zA-Z0-9-_@.]+)*$/
const USERNAME_MESSAGE = 'Value error, Username only can be 3 to 32 characters and contain a-z, 0-9, and underscores in between.'
const PROTOCOLS = ['vmess', 'vless', 'trojan', 'shadowsocks']
const STRATEGIES = ['no_reset', 'day', 'week', 'month', 'year']

const NOT_AUTHENTICATED = json(401, { detail: 'Not authenticated' }, { 'www-authenticate': 'Bearer' })
const BAD_CREDENTIALS = json(401, { detail: 'Could not validate credentials' }, { 'www-authenticate': 'Bearer' })
const NOT_ALLOWED = json(403, { detail: "You're not allowed" })
const USER_NOT_FOUND = json(404, { detail: 'User not found' })
const NOT_FOUND = json(404, { detail: 'Not Found' })

/** FastAPI's plain-text answer to an unhandled exception. */
function serverError(status: number): FakeResponse {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: status === 500 ? 'Internal Server Error' : `<html><body><h1>${status}</h1></body></html>` }
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

function naiveIso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '').replace(/\.(\d{3})$/, '.$1000')
}

export class FakeMarzban extends FakeServerControls {
  private readonly users_ = new Map<string, StoredUser>()
  private readonly tokens = new Map<string, { admin: string; exp: number }>()
  private readonly admins: FakeMarzbanAdmin[]
  private readonly inboundsByProtocol: Record<string, FakeMarzbanInbound[]>
  private readonly secret = randomBytes(16).toString('hex')
  readonly counts = { login: 0, create: 0, modify: 0, delete: 0, reset: 0 }

  constructor(
    server: FakeHttpServer,
    private readonly options: FakeMarzbanOptions,
  ) {
    super(server)
    this.admins = options.admins ?? [{ username: 'admin', password: 'admin', sudo: true }]
    this.inboundsByProtocol = options.inbounds ?? {
      vless: [{ tag: 'VLESS TCP REALITY', network: 'tcp', tls: 'reality', port: 443 }],
      vmess: [{ tag: 'VMess TCP', network: 'tcp', tls: 'none', port: 8081 }],
    }
  }

  // ---- knobs and inspection ------------------------------------------------------------------

  expireTokens(): void {
    this.tokens.clear()
  }
  users(): Record<string, unknown>[] {
    return [...this.users_.values()].map((u) => this.response(u))
  }
  user(username: string): Record<string, unknown> | undefined {
    const u = this.users_.get(username.toLowerCase())
    return u ? this.response(u) : undefined
  }
  setUsage(username: string, bytes: number): void {
    const u = this.users_.get(username.toLowerCase())
    if (!u) throw new Error(`fake Marzban has no user ${username}`)
    u.lifetimeUsed += Math.max(0, bytes - u.usedTraffic)
    u.usedTraffic = bytes
    u.onlineAt = this.now()
  }
  seedUser(seed: SeedMarzbanUser): void {
    const proxies = this.fillProxies(seed.proxies ?? { vless: {} })
    this.users_.set(seed.username.toLowerCase(), {
      username: seed.username,
      admin: seed.admin ?? this.admins[0]!.username,
      proxies,
      inbounds: this.defaultInbounds(proxies, {}),
      expire: seed.expire ?? null,
      dataLimit: seed.dataLimit ?? null,
      dataLimitResetStrategy: 'no_reset',
      status: seed.status ?? 'active',
      note: seed.note ?? null,
      usedTraffic: seed.usedTraffic ?? 0,
      lifetimeUsed: seed.usedTraffic ?? 0,
      createdAt: this.now(),
      onlineAt: null,
      onHoldExpireDuration: null,
      onHoldTimeout: null,
      autoDeleteInDays: null,
      nextPlan: null,
      subRevokedAt: 0,
    })
  }
  /** The review job: active users past their limit or expiry flip to limited / expired. */
  tick(): void {
    const nowSec = this.now() / 1000
    for (const u of this.users_.values()) {
      if (u.status !== 'active') continue
      if (u.dataLimit && u.usedTraffic >= u.dataLimit) u.status = 'limited'
      else if (u.expire && u.expire <= nowSec) u.status = 'expired'
    }
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  handle = async (req: FakeRequest): Promise<FakeResponse> => {
    const p = req.path
    if (p === '/api/admin/token') return req.method === 'POST' ? this.login(req) : json(405, { detail: 'Method Not Allowed' })
    const sub = /^\/sub\/([^/]+)(\/info)?$/.exec(p)
    if (sub && req.method === 'GET') return this.subscription(sub[1]!, Boolean(sub[2]))
    if (!p.startsWith('/api/')) return NOT_FOUND

    const routes: [RegExp, string, (m: RegExpExecArray, admin: FakeMarzbanAdmin, body: unknown) => FakeResponse][] = [
      [/^\/api\/admin$/, 'GET', (_m, admin) => json(200, { username: admin.username, is_sudo: Boolean(admin.sudo), telegram_id: null, discord_webhook: null, users_usage: null })],
      [/^\/api\/user$/, 'POST', (_m, admin, body) => this.create(admin, body)],
      [/^\/api\/user\/([^/]+)$/, 'GET', (m, admin) => this.withUser(m, admin, (u) => json(200, this.response(u)))],
      [/^\/api\/user\/([^/]+)$/, 'PUT', (m, admin, body) => this.withUser(m, admin, (u) => this.modify(u, body))],
      [/^\/api\/user\/([^/]+)$/, 'DELETE', (m, admin) => this.withUser(m, admin, (u) => this.remove(u))],
      [/^\/api\/user\/([^/]+)\/reset$/, 'POST', (m, admin) => this.withUser(m, admin, (u) => this.reset(u))],
      [/^\/api\/user\/([^/]+)\/revoke_sub$/, 'POST', (m, admin) => this.withUser(m, admin, (u) => this.revoke(u))],
      [/^\/api\/users$/, 'GET', (_m, admin) => this.list(admin, req.query)],
      [/^\/api\/system$/, 'GET', (_m, admin) => this.system(admin)],
      [/^\/api\/inbounds$/, 'GET', () => json(200, this.inboundsResponse())],
      [/^\/api\/core$/, 'GET', () => json(200, { version: '1.8.24', started: true, logs_websocket: '/api/core/logs' })],
    ]
    const matching = routes.filter(([re]) => re.test(p))
    if (matching.length === 0) return NOT_FOUND
    const route = matching.find(([, method]) => method === req.method)
    if (!route) return json(405, { detail: 'Method Not Allowed' })

    // FastAPI parses a JSON body before running the auth dependency.
    let body: unknown
    if ((req.method === 'POST' || req.method === 'PUT') && req.body.trim() !== '') {
      try {
        body = JSON.parse(req.body)
      } catch (error) {
        const pos = /position (\d+)/.exec(String(error))?.[1] ?? '0'
        return json(422, { detail: { [pos]: 'JSON decode error' } })
      }
    }
    const admin = this.authenticate(req)
    if ('status' in admin) return admin
    return route[2](route[0].exec(p)!, admin, body)
  }

  private login(req: FakeRequest): FakeResponse {
    this.counts.login++
    const contentType = String(req.headers['content-type'] ?? '')
    const form = contentType.includes('application/x-www-form-urlencoded') ? parseForm(req.body) : {}
    const missing: Record<string, string> = {}
    if (!form.username) missing.username = 'Field required'
    if (!form.password) missing.password = 'Field required'
    if (Object.keys(missing).length > 0) return json(422, { detail: missing })
    if (form.grant_type !== undefined && form.grant_type !== 'password') {
      return json(422, { detail: { grant_type: "String should match pattern '^password$'" } })
    }
    const admin = this.admins.find((a) => a.username === form.username && a.password === form.password)
    if (!admin) return json(401, { detail: 'Incorrect username or password' }, { 'www-authenticate': 'Bearer' })
    const ttl = this.options.tokenTtlSeconds ?? 86_400
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
    const payload = Buffer.from(JSON.stringify({ sub: admin.username, access: admin.sudo ? 'sudo' : 'admin', iat: Math.floor(this.now() / 1000) })).toString('base64url')
    const token = `${header}.${payload}.${randomBytes(24).toString('base64url')}`
    this.tokens.set(token, { admin: admin.username, exp: this.now() + ttl * 1000 })
    return json(200, { access_token: token, token_type: 'bearer' })
  }

  private authenticate(req: FakeRequest): FakeMarzbanAdmin | FakeResponse {
    const header = req.headers.authorization
    const m = header ? /^bearer\s+(.+)$/i.exec(header) : null
    if (!m) return NOT_AUTHENTICATED
    const token = this.tokens.get(m[1]!.trim())
    if (!token || token.exp <= this.now()) return BAD_CREDENTIALS
    const admin = this.admins.find((a) => a.username === token.admin)
    return admin ?? BAD_CREDENTIALS
  }

  private withUser(m: RegExpExecArray, admin: FakeMarzbanAdmin, fn: (u: StoredUser) => FakeResponse): FakeResponse {
    const u = this.users_.get(decodeURIComponent(m[1]!).toLowerCase())
    if (!u) return USER_NOT_FOUND
    if (!admin.sudo && u.admin !== admin.username) return NOT_ALLOWED
    return fn(u)
  }

  private allTags(): Map<string, string> {
    const tags = new Map<string, string>()
    for (const [protocol, list] of Object.entries(this.inboundsByProtocol)) for (const i of list) tags.set(i.tag, protocol)
    return tags
  }

  private fillProxies(proxies: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {}
    for (const [protocol, settings] of Object.entries(proxies)) {
      const s = { ...settings }
      if (protocol === 'vmess') s.id ??= randomUUID()
      if (protocol === 'vless') {
        s.id ??= randomUUID()
        s.flow ??= ''
      }
      if (protocol === 'trojan') s.password ??= randomBytes(12).toString('base64url')
      if (protocol === 'shadowsocks') {
        s.password ??= randomBytes(12).toString('base64url')
        s.method ??= 'chacha20-ietf-poly1305'
      }
      out[protocol] = s
    }
    return out
  }

  private defaultInbounds(proxies: Record<string, unknown>, given: Record<string, string[]>): Record<string, string[]> {
    const out: Record<string, string[]> = {}
    for (const protocol of Object.keys(proxies)) {
      const tags = given[protocol]
      out[protocol] = tags && tags.length > 0 ? [...tags] : (this.inboundsByProtocol[protocol] ?? []).map((i) => i.tag)
    }
    return out
  }

  /** Pydantic-style checks shared by create and modify; returns the flattened 422 map. */
  private validate(body: Record<string, unknown>, mode: 'create' | 'modify'): Record<string, string> {
    const errors: Record<string, string> = {}
    if (mode === 'create') {
      if (typeof body.username !== 'string') errors.username = 'Field required'
      else if (!USERNAME_RULE.test(body.username)) errors.username = USERNAME_MESSAGE
    }
    if (body.proxies !== undefined && body.proxies !== null) {
      if (typeof body.proxies !== 'object' || Array.isArray(body.proxies)) errors.proxies = 'Input should be a valid dictionary'
      else {
        for (const [key, settings] of Object.entries(body.proxies as Record<string, unknown>)) {
          if (!PROTOCOLS.includes(key)) errors[key] = "Input should be 'vmess', 'vless', 'trojan' or 'shadowsocks'"
          const flow = (settings as { flow?: unknown } | null)?.flow
          if (flow !== undefined && flow !== '' && flow !== 'xtls-rprx-vision') errors.flow = "Input should be '' or 'xtls-rprx-vision'"
        }
        if (mode === 'create' && Object.keys(body.proxies).length === 0) errors.proxies = 'Value error, Each user needs at least one proxy'
      }
    }
    if (body.inbounds !== undefined && body.inbounds !== null && typeof body.inbounds === 'object') {
      const tags = this.allTags()
      for (const list of Object.values(body.inbounds as Record<string, unknown>)) {
        for (const tag of Array.isArray(list) ? list : []) {
          if (!tags.has(String(tag))) errors.inbounds = `Value error, Inbound ${String(tag)} doesn't exist`
        }
      }
    }
    for (const key of ['expire', 'data_limit', 'on_hold_expire_duration']) {
      const v = body[key]
      if (v === undefined || v === null) continue
      if (typeof v === 'string' || typeof v === 'boolean' || !isInt(v)) errors[key] = 'Input should be a valid integer, unable to parse string as an integer'
      else if (key === 'data_limit' && v < 0) errors[key] = 'Input should be greater than or equal to 0'
    }
    if (body.status !== undefined && body.status !== null) {
      const allowed = mode === 'create' ? ['active', 'on_hold'] : ['active', 'disabled', 'on_hold']
      if (!allowed.includes(String(body.status))) {
        errors.status = mode === 'create' ? "Input should be 'active' or 'on_hold'" : "Input should be 'active', 'disabled' or 'on_hold'"
      } else if (body.status === 'on_hold') {
        if (!(isInt(body.on_hold_expire_duration) && body.on_hold_expire_duration > 0)) {
          errors.status = 'Value error, User cannot be on hold without a valid on_hold_expire_duration.'
        } else if (body.expire) errors.status = 'Value error, User cannot be on hold with specified expire.'
      }
    }
    if (typeof body.note === 'string' && body.note.length > 500) errors.note = 'String should have at most 500 characters'
    if (body.note !== undefined && body.note !== null && typeof body.note !== 'string') errors.note = 'Input should be a valid string'
    if (body.data_limit_reset_strategy !== undefined && body.data_limit_reset_strategy !== null && !STRATEGIES.includes(String(body.data_limit_reset_strategy))) {
      errors.data_limit_reset_strategy = "Input should be 'no_reset', 'day', 'week', 'month' or 'year'"
    }
    return errors
  }

  private disabledProtocol(proxies: unknown): FakeResponse | undefined {
    for (const protocol of Object.keys((proxies as Record<string, unknown>) ?? {})) {
      if (!(this.inboundsByProtocol[protocol]?.length)) return json(400, { detail: `Protocol ${protocol} is disabled on your server` })
    }
    return undefined
  }

  private create(admin: FakeMarzbanAdmin, raw: unknown): FakeResponse {
    this.counts.create++
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return json(422, { detail: { body: 'Input should be a valid dictionary' } })
    const body = raw as Record<string, unknown>
    const errors = this.validate(body, 'create')
    if (Object.keys(errors).length > 0) return json(422, { detail: errors })
    const disabled = this.disabledProtocol(body.proxies)
    if (disabled) return disabled
    const username = body.username as string
    if (this.users_.has(username.toLowerCase())) return json(409, { detail: 'User already exists' })
    const proxies = this.fillProxies((body.proxies as Record<string, Record<string, unknown>>) ?? {})
    const user: StoredUser = {
      username,
      admin: admin.username,
      proxies,
      inbounds: this.defaultInbounds(proxies, (body.inbounds as Record<string, string[]>) ?? {}),
      expire: isInt(body.expire) && body.expire !== 0 ? Math.floor(body.expire) : null,
      dataLimit: isInt(body.data_limit) && body.data_limit !== 0 ? Math.floor(body.data_limit) : null,
      dataLimitResetStrategy: (body.data_limit_reset_strategy as string) ?? 'no_reset',
      status: (body.status as Status) ?? 'active',
      note: (body.note as string) ?? null,
      usedTraffic: 0,
      lifetimeUsed: 0,
      createdAt: this.now(),
      onlineAt: null,
      onHoldExpireDuration: isInt(body.on_hold_expire_duration) && body.on_hold_expire_duration > 0 ? body.on_hold_expire_duration : null,
      onHoldTimeout: typeof body.on_hold_timeout === 'string' ? body.on_hold_timeout : null,
      autoDeleteInDays: isInt(body.auto_delete_in_days) ? body.auto_delete_in_days : null,
      nextPlan: body.next_plan ?? null,
      subRevokedAt: 0,
    }
    this.users_.set(username.toLowerCase(), user)
    return json(200, this.response(user))
  }

  private modify(u: StoredUser, raw: unknown): FakeResponse {
    this.counts.modify++
    const body = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>
    const errors = this.validate(body, 'modify')
    if (Object.keys(errors).length > 0) return json(422, { detail: errors })
    const disabled = this.disabledProtocol(body.proxies)
    if (disabled) return disabled
    const proxies = body.proxies as Record<string, Record<string, unknown>> | undefined
    if (proxies && Object.keys(proxies).length > 0) {
      u.proxies = this.fillProxies(proxies)
      u.inbounds = this.defaultInbounds(u.proxies, u.inbounds)
    }
    const inbounds = body.inbounds as Record<string, string[]> | undefined
    if (inbounds && Object.keys(inbounds).length > 0) {
      for (const [protocol, tags] of Object.entries(inbounds)) if (u.proxies[protocol]) u.inbounds[protocol] = [...tags]
    }
    if (body.status !== undefined && body.status !== null) u.status = body.status as Status
    if (isInt(body.data_limit)) {
      u.dataLimit = body.data_limit || null
      if (u.status !== 'expired' && u.status !== 'disabled') {
        if (!u.dataLimit || u.usedTraffic < u.dataLimit) {
          if (u.status !== 'on_hold') u.status = 'active'
        } else u.status = 'limited'
      }
    }
    if (isInt(body.expire)) {
      u.expire = body.expire || null
      if (u.status === 'active' || u.status === 'expired') {
        u.status = !u.expire || u.expire > this.now() / 1000 ? 'active' : 'expired'
      }
    }
    if (typeof body.note === 'string') u.note = body.note || null
    if (typeof body.data_limit_reset_strategy === 'string') u.dataLimitResetStrategy = body.data_limit_reset_strategy
    if (typeof body.on_hold_timeout === 'string') u.onHoldTimeout = body.on_hold_timeout
    if (isInt(body.on_hold_expire_duration) && body.on_hold_expire_duration > 0) u.onHoldExpireDuration = body.on_hold_expire_duration
    // Omitting next_plan deletes it (Marzban 0.8.4).
    u.nextPlan = body.next_plan ?? null
    return json(200, this.response(u))
  }

  private remove(u: StoredUser): FakeResponse {
    this.counts.delete++
    this.users_.delete(u.username.toLowerCase())
    return json(200, { detail: 'User successfully deleted' })
  }

  private reset(u: StoredUser): FakeResponse {
    this.counts.reset++
    u.usedTraffic = 0
    // Bug-compatible: only `expired` keeps its status; disabled and on_hold users come back active.
    if (u.status !== 'expired') u.status = 'active'
    u.nextPlan = null
    return json(200, this.response(u))
  }

  private revoke(u: StoredUser): FakeResponse {
    // New credentials; flow and cipher survive.
    const kept = Object.fromEntries(
      Object.entries(u.proxies).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).filter(([f]) => f === 'flow' || f === 'method'))]),
    )
    u.proxies = this.fillProxies(kept)
    u.subRevokedAt = Math.floor(this.now() / 1000) + 1
    return json(200, this.response(u, u.subRevokedAt))
  }

  private list(admin: FakeMarzbanAdmin, q: URLSearchParams): FakeResponse {
    const status = q.get('status')
    if (status && !['active', 'disabled', 'limited', 'expired', 'on_hold'].includes(status)) {
      return json(422, { detail: { status: "Input should be 'active', 'disabled', 'limited', 'expired' or 'on_hold'" } })
    }
    for (const key of ['offset', 'limit']) {
      const v = q.get(key)
      if (v !== null && !/^-?\d+$/.test(v)) return json(422, { detail: { [key]: 'Input should be a valid integer, unable to parse string as an integer' } })
    }
    let users = [...this.users_.values()]
    if (!admin.sudo) users = users.filter((u) => u.admin === admin.username)
    const names = q.getAll('username').map((n) => n.toLowerCase())
    if (names.length > 0) users = users.filter((u) => names.includes(u.username.toLowerCase()))
    const search = q.get('search')?.toLowerCase()
    if (search) users = users.filter((u) => u.username.toLowerCase().includes(search) || (u.note ?? '').toLowerCase().includes(search))
    if (status) users = users.filter((u) => u.status === status)
    const sort = q.get('sort')
    if (sort) {
      const keys: Record<string, (u: StoredUser) => number | string> = {
        username: (u) => u.username.toLowerCase(),
        used_traffic: (u) => u.usedTraffic,
        data_limit: (u) => u.dataLimit ?? -1,
        expire: (u) => u.expire ?? -1,
        created_at: (u) => u.createdAt,
      }
      const specs = sort.split(',').map((s) => s.trim())
      for (const spec of specs) {
        if (!keys[spec.replace(/^-/, '')]) return json(400, { detail: `"${spec}" is not a valid sort option` })
      }
      users.sort((a, b) => {
        for (const spec of specs) {
          const desc = spec.startsWith('-')
          const key = keys[spec.replace(/^-/, '')]!
          const av = key(a)
          const bv = key(b)
          if (av < bv) return desc ? 1 : -1
          if (av > bv) return desc ? -1 : 1
        }
        return 0
      })
    }
    const total = users.length
    const offset = Number(q.get('offset') ?? 0) || 0
    const limit = Number(q.get('limit') ?? 0) || 0
    users = users.slice(offset, limit ? offset + limit : undefined)
    return json(200, { users: users.map((u) => this.response(u)), total })
  }

  private system(admin: FakeMarzbanAdmin): FakeResponse {
    const mine = [...this.users_.values()].filter((u) => admin.sudo || u.admin === admin.username)
    const count = (s: Status) => mine.filter((u) => u.status === s).length
    const dayAgo = this.now() - 86_400_000
    return json(200, {
      version: this.options.version ?? '0.8.4',
      mem_total: 4_294_967_296,
      mem_used: 1_073_741_824,
      cpu_cores: 2,
      cpu_usage: 12.5,
      total_user: mine.length,
      online_users: [...this.users_.values()].filter((u) => u.onlineAt && u.onlineAt > dayAgo).length,
      users_active: count('active'),
      users_on_hold: count('on_hold'),
      users_disabled: count('disabled'),
      users_expired: count('expired'),
      users_limited: count('limited'),
      incoming_bandwidth: 0,
      outgoing_bandwidth: 0,
      incoming_bandwidth_speed: 0,
      outgoing_bandwidth_speed: 0,
    })
  }

  private inboundsResponse(): Record<string, unknown[]> {
    const out: Record<string, unknown[]> = {}
    for (const [protocol, list] of Object.entries(this.inboundsByProtocol)) {
      out[protocol] = list.map((i) => ({ tag: i.tag, protocol, network: i.network ?? 'tcp', tls: i.tls ?? 'none', port: i.port ?? 443 }))
    }
    return out
  }

  private subToken(username: string, at: number): string {
    const data = Buffer.from(`${username},${at}`).toString('base64url')
    const sig = createHash('sha256').update(data + this.secret).digest('base64url').slice(0, 10)
    return data + sig
  }

  private subscriptionUrl(u: StoredUser, at = Math.floor(this.now() / 1000)): string {
    return `${this.options.subscriptionUrlPrefix ?? ''}/sub/${this.subToken(u.username, at)}`
  }

  private subscription(token: string, info: boolean): FakeResponse {
    if (token.length < 15) return NOT_FOUND
    const data = token.slice(0, -10)
    let decoded: string
    try {
      decoded = Buffer.from(data, 'base64url').toString('utf8')
    } catch {
      return NOT_FOUND
    }
    const [username, at] = decoded.split(',')
    if (!username || !at || this.subToken(username, Number(at)) !== token) return NOT_FOUND
    const u = this.users_.get(username.toLowerCase())
    if (!u || Number(at) < u.subRevokedAt) return NOT_FOUND
    if (info) {
      const { admin: _a, note: _n, inbounds: _i, excluded_inbounds: _e, auto_delete_in_days: _d, ...rest } = this.response(u)
      return json(200, rest)
    }
    const body = Buffer.from(this.links(u).join('\n')).toString('base64')
    return {
      status: 200,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'subscription-userinfo': `upload=0; download=${u.usedTraffic}; total=${u.dataLimit ?? 0}; expire=${u.expire ?? 0}`,
      },
      body,
    }
  }

  private links(u: StoredUser): string[] {
    const links: string[] = []
    for (const [protocol, tags] of Object.entries(u.inbounds)) {
      const settings = u.proxies[protocol] ?? {}
      for (const tag of tags) {
        const inbound = (this.inboundsByProtocol[protocol] ?? []).find((i) => i.tag === tag)
        const port = inbound?.port ?? 443
        const remark = encodeURIComponent(`${tag} (${u.username})`)
        const query = `security=${inbound?.tls ?? 'none'}&type=${inbound?.network ?? 'tcp'}`
        if (protocol === 'vless') links.push(`vless://${String(settings.id)}@127.0.0.1:${port}?${query}#${remark}`)
        else if (protocol === 'trojan') links.push(`trojan://${String(settings.password)}@127.0.0.1:${port}?${query}#${remark}`)
        else if (protocol === 'vmess') {
          const v = { add: '127.0.0.1', aid: '0', id: settings.id, net: inbound?.network ?? 'tcp', port, ps: `${tag} (${u.username})`, tls: '', type: 'none', v: '2' }
          links.push(`vmess://${Buffer.from(JSON.stringify(v)).toString('base64')}`)
        } else if (protocol === 'shadowsocks') {
          links.push(`ss://${Buffer.from(`${String(settings.method)}:${String(settings.password)}`).toString('base64')}@127.0.0.1:${port}#${remark}`)
        }
      }
    }
    return links
  }

  private response(u: StoredUser, subAt?: number): Record<string, unknown> {
    const admin = this.admins.find((a) => a.username === u.admin)
    const excluded: Record<string, string[]> = {}
    for (const protocol of Object.keys(u.proxies)) {
      const chosen = u.inbounds[protocol] ?? []
      excluded[protocol] = (this.inboundsByProtocol[protocol] ?? []).map((i) => i.tag).filter((t) => !chosen.includes(t))
    }
    return {
      proxies: u.proxies,
      expire: u.expire,
      data_limit: u.dataLimit,
      data_limit_reset_strategy: u.dataLimitResetStrategy,
      inbounds: u.inbounds,
      note: u.note,
      sub_updated_at: null,
      sub_last_user_agent: null,
      online_at: u.onlineAt === null ? null : naiveIso(u.onlineAt),
      on_hold_expire_duration: u.onHoldExpireDuration,
      on_hold_timeout: u.onHoldTimeout,
      auto_delete_in_days: u.autoDeleteInDays,
      next_plan: u.nextPlan,
      username: u.username,
      status: u.status,
      used_traffic: u.usedTraffic,
      lifetime_used_traffic: u.lifetimeUsed,
      created_at: naiveIso(u.createdAt),
      links: this.links(u),
      subscription_url: this.subscriptionUrl(u, subAt),
      excluded_inbounds: excluded,
      admin: admin ? { username: admin.username, is_sudo: Boolean(admin.sudo), telegram_id: null, discord_webhook: null, users_usage: null } : null,
    }
  }
}

/** Starts a fake Marzban on 127.0.0.1; see the header of this file for the API. */
export async function startFakeMarzban(options: FakeMarzbanOptions = {}): Promise<FakeMarzban> {
  const holder: { fake?: FakeMarzban } = {}
  const server = await startFakeHttp((req) => holder.fake!.handle(req), { port: options.port, latencyMs: options.latencyMs, errorBody: serverError })
  holder.fake = new FakeMarzban(server, options)
  return holder.fake
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2)
  const fake = await startFakeMarzban({
    port: Number(cliFlag(argv, 'port') ?? 0),
    latencyMs: Number(cliFlag(argv, 'latency') ?? 0),
    admins: [{ username: cliFlag(argv, 'username') ?? 'admin', password: cliFlag(argv, 'password') ?? 'admin', sudo: true }],
  })
  process.stdout.write(`fake Marzban listening on ${fake.url}\n`)
  const stop = () => void fake.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
