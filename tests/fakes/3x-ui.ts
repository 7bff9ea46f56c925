/**
 * A fake 3X-UI panel (default: v2.9.4 behaviour): a real HTTP server on 127.0.0.1 that follows
 * shared/contracts/3x-ui.md — web base path, cookie session (`3x-ui`, signed, Max-Age), empty 404
 * for API calls without a session, HTTP 200 + `success:false` for errors with the panel's message
 * shapes (`Something went wrong (Duplicate email: x\n)`), settings as JSON strings, full-replace
 * updateClient, "no client remained" on deleting the last client, traffic rows, and a separate
 * subscription listener. Client writes are read-modify-write without a lock, like the panel, so
 * concurrent writes lose updates when `writeLatencyMs` > 0 and the caller does not serialise.
 *
 *   const panel = await startFakeXui({ basePath: '/secret/' })
 *   panel.url                        base URL incl. base path (credentials admin / admin)
 *   panel.subUrl                     origin of the subscription listener
 *   panel.clients(inboundId?)        raw client objects as stored in the inbound settings
 *   panel.users()                    the same for every inbound (named like the Marzban fake's)
 *   panel.client(email) / panel.traffic(email)
 *   panel.counts                     { login, addClient, updateClient, delClient, resetClientTraffic }
 *   panel.maxConcurrentWrites        highest number of client writes in progress at once
 *   panel.seedClient(inboundId, {...})  put a client in place (e.g. a foreign one)
 *   panel.addTraffic(email, bytes)   usage; panel.advance(ms) moves the clock; panel.tick() = 10-s job
 *   panel.expireSessions()           every issued cookie becomes invalid (rotates the cookie secret)
 *   knobs (tests/fakes/http.ts): latencyMs, hang, failNext(n, status, pathIncludes), down(), up(), close();
 *   writeLatencyMs: pause between reading and saving an inbound in client writes
 *
 * Options: version '2.9.4' (default) | '2.8.0' (401 JSON / 307 for missing sessions, null for unknown
 * traffic) | '3.6.0' (CSRF login, inbound client routes gone); twoFactorSecret (base32) requires a
 * TOTP code at login; sessionMaxAgeMinutes; inbounds.
 *
 * Standalone: `tsx tests/fakes/3x-ui.ts --port 2053 [--base-path /panel/] [--version 2.9.4]`.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { Secret, TOTP } from 'otpauth'
import { cliFlag, FakeServerControls, json, parseForm, startFakeHttp, type FakeHttpServer, type FakeRequest, type FakeResponse } from './http.ts'

export type FakeXuiVersion = '2.9.4' | '2.8.0' | '3.6.0'

export interface FakeXuiInboundSeed {
  id?: number
  remark?: string
  protocol: string
  port: number
  listen?: string
  enable?: boolean
  /** Inbound settings object (not a string); `clients` defaults to []. */
  settings?: Record<string, unknown>
  streamSettings?: Record<string, unknown>
}

export interface FakeXuiOptions {
  port?: number
  latencyMs?: number
  basePath?: string
  username?: string
  password?: string
  twoFactorSecret?: string
  version?: FakeXuiVersion
  sessionMaxAgeMinutes?: number
  /** Default: 1 = VLESS TCP REALITY on 443, 2 = VMess WS TLS on 8443, 3 = Trojan TCP TLS on 2083; all without clients. */
  inbounds?: FakeXuiInboundSeed[]
  writeLatencyMs?: number
  /** Subscription settings returned by panel/setting/all. */
  sub?: { enable?: boolean; path?: string; domain?: string; uri?: string }
}

type Client = Record<string, unknown> & { email?: string }

interface StoredInbound {
  id: number
  remark: string
  enable: boolean
  listen: string
  port: number
  protocol: string
  settings: Record<string, unknown> & { clients: Client[] }
  streamSettings: Record<string, unknown>
  tag: string
  up: number
  down: number
}

interface TrafficRow {
  id: number
  inboundId: number
  enable: boolean
  email: string
  up: number
  down: number
  allTime: number
  expiryTime: number
  total: number
  reset: number
  lastOnline: number
}

const EMPTY_404: FakeResponse = { status: 404, body: '' }
const WENT_WRONG = 'Something went wrong'
const BIND_PREFIX = 'Inbound has been successfully updated.'

const ok = (msg = '', obj: unknown = null) => json(200, { success: true, msg, obj })
const fail = (prefix: string, error: string) => json(200, { success: false, msg: `${prefix} (${error})`, obj: null })
/** `common.NewError` uses Sprintln: space-joined and newline-terminated. */
const newError = (...parts: unknown[]) => `${parts.map(String).join(' ')}\n`

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}

function keyOf(protocol: string, client: Client): string {
  switch (protocol) {
    case 'trojan':
      return String(client.password ?? '')
    case 'shadowsocks':
      return String(client.email ?? '')
    case 'hysteria':
    case 'hysteria2':
      return String(client.auth ?? '')
    default:
      return String(client.id ?? '')
  }
}

function defaultInbounds(): FakeXuiInboundSeed[] {
  return [
    {
      id: 1,
      remark: 'DE-Reality',
      protocol: 'vless',
      port: 443,
      settings: { decryption: 'none', fallbacks: [] },
      streamSettings: {
        network: 'tcp',
        security: 'reality',
        realitySettings: {
          serverNames: ['www.example.com'],
          shortIds: ['6ba85179e30d4fc2'],
          settings: { publicKey: 'Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw', fingerprint: 'chrome', spiderX: '/' },
        },
        tcpSettings: { header: { type: 'none' } },
      },
    },
    {
      id: 2,
      remark: 'NL-WS',
      protocol: 'vmess',
      port: 8443,
      settings: {},
      streamSettings: { network: 'ws', security: 'tls', wsSettings: { path: '/ws', host: 'cdn.example.com' }, tlsSettings: { serverName: 'cdn.example.com', alpn: ['h2', 'http/1.1'], settings: { fingerprint: 'chrome' } } },
    },
    {
      id: 3,
      remark: 'FI-Trojan',
      protocol: 'trojan',
      port: 2083,
      settings: { fallbacks: [] },
      streamSettings: { network: 'tcp', security: 'tls', tlsSettings: { serverName: 'trojan.example.com' } },
    },
  ]
}

export class FakeXui extends FakeServerControls {
  readonly counts = { login: 0, addClient: 0, updateClient: 0, delClient: 0, resetClientTraffic: 0 }
  maxConcurrentWrites = 0
  writeLatencyMs: number
  private writesInFlight = 0
  private readonly inbounds = new Map<number, StoredInbound>()
  private readonly traffic = new Map<string, TrafficRow>()
  private readonly csrfTokens = new Set<string>()
  private cookieSecret = randomBytes(16)
  private nextTrafficId = 1
  private readonly basePath: string
  private readonly version: FakeXuiVersion

  constructor(
    server: FakeHttpServer,
    private readonly subServer: FakeHttpServer,
    private readonly options: FakeXuiOptions,
  ) {
    super(server)
    const base = options.basePath ?? '/'
    this.basePath = `/${base.replace(/^\/+|\/+$/g, '')}/`.replace('//', '/')
    this.version = options.version ?? '2.9.4'
    this.writeLatencyMs = options.writeLatencyMs ?? 0
    for (const seed of options.inbounds ?? defaultInbounds()) this.addInbound(seed)
  }

  // ---- knobs and inspection ------------------------------------------------------------------

  override get url(): string {
    return this.server.url + this.basePath
  }
  get subUrl(): string {
    return this.subServer.url
  }
  override async close(): Promise<void> {
    await Promise.all([this.server.close(), this.subServer.close()])
  }
  expireSessions(): void {
    this.cookieSecret = randomBytes(16)
  }

  addInbound(seed: FakeXuiInboundSeed): number {
    const id = seed.id ?? Math.max(0, ...this.inbounds.keys()) + 1
    this.inbounds.set(id, {
      id,
      remark: seed.remark ?? `inbound-${id}`,
      enable: seed.enable ?? true,
      listen: seed.listen ?? '',
      port: seed.port,
      protocol: seed.protocol,
      settings: { ...(seed.settings ?? {}), clients: clone(((seed.settings?.clients as Client[]) ?? [])) },
      streamSettings: seed.streamSettings ?? { network: 'tcp', security: 'none' },
      tag: `inbound-${seed.port}`,
      up: 0,
      down: 0,
    })
    return id
  }

  clients(inboundId?: number): Client[] {
    const out: Client[] = []
    for (const inbound of this.inbounds.values()) {
      if (inboundId === undefined || inbound.id === inboundId) out.push(...clone(inbound.settings.clients))
    }
    return out
  }
  users(): Client[] {
    return this.clients()
  }
  client(email: string): Client | undefined {
    return this.clients().find((c) => String(c.email ?? '').toLowerCase() === email.toLowerCase())
  }
  trafficOf(email: string): TrafficRow | undefined {
    const row = this.traffic.get(email.toLowerCase())
    return row ? { ...row } : undefined
  }
  seedClient(inboundId: number, client: Client): void {
    const inbound = this.inbounds.get(inboundId)
    if (!inbound) throw new Error(`fake 3X-UI has no inbound ${inboundId}`)
    const full: Client = { enable: true, totalGB: 0, expiryTime: 0, subId: randomBytes(8).toString('hex'), comment: '', limitIp: 0, tgId: 0, reset: 0, ...client }
    if (inbound.protocol === 'vless' || inbound.protocol === 'vmess') full.id ??= randomUUID()
    if (inbound.protocol === 'trojan') full.password ??= randomBytes(8).toString('hex')
    inbound.settings.clients.push(full)
    this.upsertTraffic(inbound.id, full)
  }
  /** Adds download traffic; a "start on first use" client (negative expiry) starts its clock now. */
  addTraffic(email: string, bytes: number): void {
    const row = this.traffic.get(email.toLowerCase())
    if (!row) throw new Error(`fake 3X-UI has no traffic row for ${email}`)
    row.down += bytes
    row.allTime += bytes
    row.lastOnline = this.now()
    if (row.expiryTime < 0) {
      row.expiryTime = this.now() - row.expiryTime
      const c = this.findClient(email)
      if (c) c.client.expiryTime = row.expiryTime
    }
  }
  /** The 10-s job: disable depleted clients; auto-renew those with `reset` days. */
  tick(): void {
    const now = this.now()
    for (const row of this.traffic.values()) {
      const depleted = (row.total > 0 && row.up + row.down >= row.total) || (row.expiryTime > 0 && row.expiryTime <= now)
      if (!depleted) continue
      const found = this.findClient(row.email)
      if (row.reset > 0 && row.expiryTime > 0 && row.expiryTime <= now) {
        row.expiryTime += row.reset * 86_400_000
        row.up = 0
        row.down = 0
        row.enable = true
        if (found) found.client.expiryTime = row.expiryTime
        continue
      }
      row.enable = false
      if (found && this.version === '2.9.4') found.client.enable = false
    }
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  handle = async (req: FakeRequest): Promise<FakeResponse> => {
    if (!req.path.startsWith(this.basePath)) return EMPTY_404
    const rel = req.path.slice(this.basePath.length)
    if (rel === 'login' && req.method === 'POST') return this.login(req)
    if (rel === 'getTwoFactorEnable' && req.method === 'POST') return ok('', Boolean(this.options.twoFactorSecret))
    if (rel === 'logout' && req.method === 'GET') return { status: 307, headers: { location: this.basePath, 'set-cookie': `3x-ui=; Path=${this.basePath}; Max-Age=0` } }
    if (rel === 'csrf-token' && req.method === 'GET') {
      if (this.version !== '3.6.0') return EMPTY_404
      const token = randomBytes(16).toString('hex')
      this.csrfTokens.add(token)
      return ok('', token)
    }
    const loggedIn = this.sessionValid(req)
    const xhr = String(req.headers['x-requested-with'] ?? '').toLowerCase() === 'xmlhttprequest'
    if (rel === 'panel/setting/all' && req.method === 'POST') {
      if (!loggedIn) return xhr ? json(401, { success: false, msg: 'Your session has expired, please log in again', obj: null }) : { status: 307, headers: { location: this.basePath } }
      return ok('', this.settingsObj())
    }
    if (!rel.startsWith('panel/api/')) return EMPTY_404
    if (!loggedIn) {
      if (this.version === '2.8.0') {
        return xhr ? json(401, { success: false, msg: 'Your session has expired, please log in again', obj: null }) : { status: 307, headers: { location: this.basePath } }
      }
      if (this.version === '3.6.0' && xhr) return { status: 401, body: '' }
      return EMPTY_404
    }
    const api = rel.slice('panel/api/'.length)
    if (api === 'server/status' && req.method === 'GET') return ok('', this.status())
    if (!api.startsWith('inbounds/')) return EMPTY_404
    return this.inboundsApi(req, api.slice('inbounds/'.length))
  }

  private login(req: FakeRequest): FakeResponse {
    this.counts.login++
    if (this.version === '3.6.0') {
      const token = String(req.headers['x-csrf-token'] ?? '')
      if (!this.csrfTokens.has(token)) return { status: 403, body: '' }
    }
    const form = this.bind(req)
    if (!form) return json(200, { success: false, msg: 'The Input data format is invalid.', obj: null })
    if (!form.username) return json(200, { success: false, msg: 'Username is required', obj: null })
    if (!form.password) return json(200, { success: false, msg: 'Password is required', obj: null })
    const invalid = json(200, { success: false, msg: 'Invalid username or password or two-factor code.', obj: null })
    if (form.username !== (this.options.username ?? 'admin') || form.password !== (this.options.password ?? 'admin')) return invalid
    if (this.options.twoFactorSecret) {
      const totp = new TOTP({ secret: Secret.fromBase32(this.options.twoFactorSecret), digits: 6, period: 30 })
      if (typeof form.twoFactorCode !== 'string' || totp.validate({ token: form.twoFactorCode, window: 1 }) === null) return invalid
    }
    const payload = Buffer.from(JSON.stringify({ u: form.username, iat: this.now() })).toString('base64url')
    const value = `${payload}.${this.sign(payload)}`
    const maxAge = (this.options.sessionMaxAgeMinutes ?? 360) * 60
    const cookie = `3x-ui=${value}; Path=${this.basePath}; ${maxAge > 0 ? `Max-Age=${maxAge}; ` : ''}HttpOnly; SameSite=Lax`
    return json(200, { success: true, msg: ' You have successfully logged into your account.', obj: null }, { 'set-cookie': cookie })
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.cookieSecret).update(payload).digest('base64url')
  }

  private sessionValid(req: FakeRequest): boolean {
    const header = String(req.headers.cookie ?? '')
    const m = /(?:^|;\s*)3x-ui=([^;]+)/.exec(header)
    if (!m) return false
    const [payload, sig] = m[1]!.split('.')
    if (!payload || !sig || this.sign(payload) !== sig) return false
    const maxAge = (this.options.sessionMaxAgeMinutes ?? 360) * 60_000
    if (maxAge === 0) return true
    try {
      const { iat } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iat: number }
      return this.now() - iat < maxAge
    } catch {
      return false
    }
  }

  /** gin's ShouldBind: JSON or form by content type; null when it cannot bind. */
  private bind(req: FakeRequest): Record<string, unknown> | null {
    const type = String(req.headers['content-type'] ?? '')
    if (type.includes('application/json')) {
      try {
        const v = JSON.parse(req.body || '{}') as unknown
        return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
      } catch {
        return null
      }
    }
    return parseForm(req.body)
  }

  private settingsObj(): Record<string, unknown> {
    const sub = this.options.sub ?? {}
    return {
      webListen: '',
      webDomain: '',
      webPort: this.server.port,
      webBasePath: this.basePath,
      sessionMaxAge: this.options.sessionMaxAgeMinutes ?? 360,
      subEnable: sub.enable ?? true,
      subListen: '',
      subPort: this.subServer.port,
      subPath: sub.path ?? '/sub/',
      subDomain: sub.domain ?? '',
      subCertFile: '',
      subKeyFile: '',
      subUpdates: 12,
      subEncrypt: true,
      subShowInfo: false,
      subURI: sub.uri ?? '',
      subJsonPath: '/json/',
      subJsonURI: '',
      subJsonEnable: false,
      subClashEnable: false,
      subClashPath: '/clash/',
    }
  }

  private status(): Record<string, unknown> {
    return {
      cpu: 7.5,
      cpuCores: 2,
      logicalPro: 2,
      cpuSpeedMhz: 2400,
      mem: { current: 512 * 1024 ** 2, total: 2048 * 1024 ** 2 },
      swap: { current: 0, total: 0 },
      disk: { current: 5 * 1024 ** 3, total: 20 * 1024 ** 3 },
      xray: { state: 'running', errorMsg: '', version: '25.10.15' },
      uptime: 3600,
      loads: [0.12, 0.08, 0.05],
      tcpCount: 10,
      udpCount: 2,
      netIO: { up: 0, down: 0 },
      netTraffic: { sent: 0, recv: 0 },
      publicIP: { ipv4: '127.0.0.1', ipv6: 'N/A' },
      appStats: { threads: 20, mem: 64 * 1024 ** 2, uptime: 3600 },
    }
  }

  private inboundJson(inbound: StoredInbound, withStats: boolean): Record<string, unknown> {
    return {
      id: inbound.id,
      up: inbound.up,
      down: inbound.down,
      total: 0,
      allTime: inbound.up + inbound.down,
      remark: inbound.remark,
      enable: inbound.enable,
      expiryTime: 0,
      trafficReset: 'never',
      lastTrafficResetTime: 0,
      clientStats: withStats
        ? inbound.settings.clients.flatMap((c) => {
            const row = this.traffic.get(String(c.email ?? '').toLowerCase())
            return row ? [this.trafficJson(row)] : []
          })
        : null,
      listen: inbound.listen,
      port: inbound.port,
      protocol: inbound.protocol,
      settings: JSON.stringify(inbound.settings, null, 2),
      streamSettings: JSON.stringify(inbound.streamSettings, null, 2),
      tag: inbound.tag,
      sniffing: JSON.stringify({ enabled: false, destOverride: ['http', 'tls'] }),
    }
  }

  private trafficJson(row: TrafficRow): Record<string, unknown> {
    const found = this.findClient(row.email)
    return { ...row, uuid: found ? String(found.client.id ?? '') : '', subId: found ? String(found.client.subId ?? '') : '' }
  }

  private findClient(email: string): { inbound: StoredInbound; client: Client; index: number } | undefined {
    for (const inbound of this.inbounds.values()) {
      const index = inbound.settings.clients.findIndex((c) => String(c.email ?? '').toLowerCase() === email.toLowerCase())
      if (index >= 0) return { inbound, client: inbound.settings.clients[index]!, index }
    }
    return undefined
  }

  private allEmails(except?: string): Set<string> {
    const out = new Set<string>()
    for (const inbound of this.inbounds.values()) {
      for (const c of inbound.settings.clients) {
        const e = String(c.email ?? '').toLowerCase()
        if (e && e !== except?.toLowerCase()) out.add(e)
      }
    }
    return out
  }

  private upsertTraffic(inboundId: number, client: Client): void {
    const email = String(client.email ?? '')
    if (!email) return
    const existing = this.traffic.get(email.toLowerCase())
    const row: TrafficRow = existing ?? {
      id: this.nextTrafficId++,
      inboundId,
      enable: true,
      email,
      up: 0,
      down: 0,
      allTime: 0,
      expiryTime: 0,
      total: 0,
      reset: 0,
      lastOnline: 0,
    }
    row.inboundId = inboundId
    row.total = Number(client.totalGB ?? 0)
    row.expiryTime = Number(client.expiryTime ?? 0)
    row.enable = client.enable === true
    row.reset = Number(client.reset ?? 0)
    this.traffic.set(email.toLowerCase(), row)
  }

  private missingKey(protocol: string, client: Client): boolean {
    switch (protocol) {
      case 'trojan':
        return !client.password
      case 'shadowsocks':
        return !client.email
      case 'hysteria':
      case 'hysteria2':
        return !client.auth
      default:
        return !client.id
    }
  }

  /** Runs a client write the way the panel does: read the inbound, (slowly) build, save — no lock. */
  private async write(fn: () => Promise<FakeResponse>): Promise<FakeResponse> {
    this.writesInFlight++
    this.maxConcurrentWrites = Math.max(this.maxConcurrentWrites, this.writesInFlight)
    try {
      return await fn()
    } finally {
      this.writesInFlight--
    }
  }

  private pause(): Promise<void> {
    return this.writeLatencyMs > 0 ? new Promise((r) => setTimeout(r, this.writeLatencyMs)) : Promise.resolve()
  }

  private parseClientsBody(req: FakeRequest): { inboundId: number; clients: Client[] } | FakeResponse {
    const body = this.bind(req)
    const inboundId = Number(body?.id)
    if (!body || !Number.isInteger(inboundId) || typeof body.settings !== 'string') {
      return fail(BIND_PREFIX, 'json: cannot unmarshal request into Go value of type model.Inbound')
    }
    let settings: unknown
    try {
      settings = JSON.parse(body.settings)
    } catch {
      return fail(WENT_WRONG, 'invalid character in settings')
    }
    const clients = (settings as { clients?: unknown } | null)?.clients
    // The panel type-asserts `clients` and panics (gin Recovery → empty 500) when it is absent.
    if (!Array.isArray(clients)) return { status: 500, body: '' }
    return { inboundId, clients: clients as Client[] }
  }

  private async inboundsApi(req: FakeRequest, route: string): Promise<FakeResponse> {
    const get = req.method === 'GET'
    const post = req.method === 'POST'
    let m: RegExpExecArray | null
    const v3 = this.version === '3.6.0'

    if (route === 'list' && get) return ok('', [...this.inbounds.values()].map((i) => this.inboundJson(i, true)))
    if ((m = /^get\/([^/]+)$/.exec(route)) && get) {
      const inbound = this.inbounds.get(Number(m[1]))
      return inbound ? ok('', this.inboundJson(inbound, false)) : fail('Obtain', 'record not found')
    }
    if (v3) return EMPTY_404 // 3.x moved every client route to /panel/api/clients
    if ((m = /^getClientTraffics\/(.+)$/.exec(route)) && get) {
      const email = decodeURIComponent(m[1]!)
      const row = this.traffic.get(email.toLowerCase())
      if (!row) return this.version === '2.8.0' ? ok('', null) : fail('Error getting traffics.', newError('Inbound Not Found For Email:', email))
      return ok('', this.trafficJson(row))
    }
    if ((m = /^getClientTrafficsById\/(.+)$/.exec(route)) && get) {
      const id = decodeURIComponent(m[1]!)
      const rows = [...this.traffic.values()].filter((r) => this.findClient(r.email)?.client.id === id)
      return ok('', rows.map((r) => this.trafficJson(r)))
    }
    if (route === 'addClient' && post) return this.write(() => this.addClient(req))
    if ((m = /^updateClient\/(.+)$/.exec(route)) && post) return this.write(() => this.updateClient(req, decodeURIComponent(m![1]!)))
    if ((m = /^(\d+)\/delClient\/(.+)$/.exec(route)) && post) return this.write(() => this.delClient(Number(m![1]), decodeURIComponent(m![2]!), 'key'))
    if ((m = /^(\d+)\/delClientByEmail\/(.+)$/.exec(route)) && post) return this.write(() => this.delClient(Number(m![1]), decodeURIComponent(m![2]!), 'email'))
    if ((m = /^(\d+)\/resetClientTraffic\/(.+)$/.exec(route)) && post) {
      this.counts.resetClientTraffic++
      const email = decodeURIComponent(m[2]!)
      const row = this.traffic.get(email.toLowerCase())
      if (!row) return fail(WENT_WRONG, newError('Inbound Not Found For Email:', email))
      row.up = 0
      row.down = 0
      row.enable = true
      return ok('Traffic has been reset.')
    }
    if ((m = /^resetAllClientTraffics\/(-?\d+)$/.exec(route)) && post) {
      const id = Number(m[1])
      for (const row of this.traffic.values()) {
        if (id === -1 || row.inboundId === id) Object.assign(row, { up: 0, down: 0, enable: true })
      }
      return ok('All traffic from the client has been reset.')
    }
    if ((m = /^delDepletedClients\/(-?\d+)$/.exec(route)) && post) return this.write(async () => this.delDepleted(Number(m![1])))
    if (route === 'onlines' && post) {
      const since = this.now() - 20_000
      const emails = [...this.traffic.values()].filter((r) => r.lastOnline > since).map((r) => r.email)
      return ok('', emails.length > 0 ? emails : null)
    }
    if (route === 'lastOnline' && post) return ok('', Object.fromEntries([...this.traffic.values()].map((r) => [r.email, r.lastOnline])))
    if ((m = /^updateClientTraffic\/(.+)$/.exec(route)) && post) {
      const row = this.traffic.get(decodeURIComponent(m[1]!).toLowerCase())
      const body = this.bind(req) ?? {}
      if (!row) return fail(WENT_WRONG, newError('Client Not Found For Email:', decodeURIComponent(m[1]!)))
      row.up = Number(body.upload ?? 0)
      row.down = Number(body.download ?? 0)
      return ok('Inbound has been successfully updated.')
    }
    if ((m = /^clientIps\/(.+)$/.exec(route)) && post) return ok('', 'No IP Record')
    return EMPTY_404
  }

  private async addClient(req: FakeRequest): Promise<FakeResponse> {
    this.counts.addClient++
    const parsed = this.parseClientsBody(req)
    if ('status' in parsed) return parsed
    const inbound = this.inbounds.get(parsed.inboundId)
    const before = inbound ? clone(inbound.settings.clients) : []
    const existing = this.allEmails()
    const seen = new Set<string>()
    for (const c of parsed.clients) {
      const e = String(c.email ?? '').toLowerCase()
      if (!e) continue
      if (existing.has(e) || seen.has(e)) return fail(WENT_WRONG, newError('Duplicate email:', c.email))
      seen.add(e)
    }
    if (!inbound) return fail(WENT_WRONG, 'record not found')
    for (const c of parsed.clients) if (this.missingKey(inbound.protocol, c)) return fail(WENT_WRONG, newError('empty client ID'))
    await this.pause()
    const now = this.now()
    const added = parsed.clients.map((c) => ({ ...c, created_at: now, updated_at: now }))
    inbound.settings = { ...inbound.settings, clients: [...before, ...added] }
    for (const c of added) this.upsertTraffic(inbound.id, c)
    return ok('Inbound client(s) have been added.')
  }

  private async updateClient(req: FakeRequest, clientId: string): Promise<FakeResponse> {
    this.counts.updateClient++
    const parsed = this.parseClientsBody(req)
    if ('status' in parsed) return parsed
    if (parsed.clients.length === 0) return { status: 500, body: '' }
    const inbound = this.inbounds.get(parsed.inboundId)
    if (!inbound) return fail(WENT_WRONG, 'record not found')
    const before = clone(inbound.settings.clients)
    const index = before.findIndex((c) => keyOf(inbound.protocol, c) === clientId)
    if (index < 0) return fail(WENT_WRONG, newError('empty client ID'))
    const old = before[index]!
    const next = parsed.clients[0]!
    if (this.missingKey(inbound.protocol, next)) return fail(WENT_WRONG, newError('empty client ID'))
    const oldEmail = String(old.email ?? '')
    const newEmail = String(next.email ?? '')
    if (newEmail && newEmail.toLowerCase() !== oldEmail.toLowerCase() && this.allEmails(oldEmail).has(newEmail.toLowerCase())) {
      return fail(WENT_WRONG, newError('Duplicate email:', newEmail))
    }
    await this.pause()
    before[index] = { ...next, created_at: old.created_at, updated_at: this.now() }
    inbound.settings = { ...inbound.settings, clients: before }
    const row = this.traffic.get(oldEmail.toLowerCase())
    if (row && newEmail.toLowerCase() !== oldEmail.toLowerCase()) {
      this.traffic.delete(oldEmail.toLowerCase())
      row.email = newEmail
      this.traffic.set(newEmail.toLowerCase(), row)
    }
    this.upsertTraffic(inbound.id, before[index]!)
    return ok('Inbound client has been updated.')
  }

  private async delClient(inboundId: number, key: string, by: 'key' | 'email'): Promise<FakeResponse> {
    this.counts.delClient++
    const inbound = this.inbounds.get(inboundId)
    if (!inbound) return fail(WENT_WRONG, 'record not found')
    const before = clone(inbound.settings.clients)
    const index = before.findIndex((c) => (by === 'key' ? keyOf(inbound.protocol, c) === key : String(c.email ?? '').toLowerCase() === key.toLowerCase()))
    if (index < 0) {
      return fail(WENT_WRONG, by === 'key' ? newError('Client Not Found In Inbound For ID:', key) : newError(`client with email ${key} not found`))
    }
    if (before.length === 1) return fail(WENT_WRONG, newError('no client remained in Inbound'))
    await this.pause()
    const [removed] = before.splice(index, 1)
    inbound.settings = { ...inbound.settings, clients: before }
    this.traffic.delete(String(removed!.email ?? '').toLowerCase())
    return ok(by === 'key' ? 'Inbound client has been deleted.' : 'Client deleted successfully')
  }

  private delDepleted(inboundId: number): FakeResponse {
    const now = this.now()
    for (const inbound of [...this.inbounds.values()]) {
      if (inboundId !== -1 && inbound.id !== inboundId) continue
      const keep = inbound.settings.clients.filter((c) => {
        const row = this.traffic.get(String(c.email ?? '').toLowerCase())
        if (!row || row.reset !== 0) return true
        const depleted = (row.total > 0 && row.up + row.down >= row.total) || (row.expiryTime > 0 && row.expiryTime <= now)
        if (depleted) this.traffic.delete(row.email.toLowerCase())
        return !depleted
      })
      if (keep.length === 0 && inbound.settings.clients.length > 0) this.inbounds.delete(inbound.id)
      else inbound.settings = { ...inbound.settings, clients: keep }
    }
    return ok('All depleted clients are deleted.')
  }

  // ---- subscription listener ------------------------------------------------------------------

  handleSub = async (req: FakeRequest): Promise<FakeResponse> => {
    const subPath = this.options.sub?.path ?? '/sub/'
    if (req.method !== 'GET' || !req.path.startsWith(subPath)) return { status: 404, body: '404 page not found' }
    const subId = decodeURIComponent(req.path.slice(subPath.length))
    const links: string[] = []
    let up = 0
    let down = 0
    let total = 0
    let expire = 0
    for (const inbound of this.inbounds.values()) {
      if (!inbound.enable) continue
      for (const c of inbound.settings.clients) {
        if (!subId || c.subId !== subId) continue
        const row = this.traffic.get(String(c.email ?? '').toLowerCase())
        up += row?.up ?? 0
        down += row?.down ?? 0
        total += Number(c.totalGB ?? 0)
        expire = Math.max(expire, Math.floor(Number(c.expiryTime ?? 0) / 1000))
        const remark = encodeURIComponent(`${inbound.remark}-${String(c.email)}`)
        const key = keyOf(inbound.protocol, c)
        links.push(`${inbound.protocol}://${encodeURIComponent(key)}@127.0.0.1:${inbound.port}?type=${String(inbound.streamSettings.network ?? 'tcp')}#${remark}`)
      }
    }
    if (links.length === 0) return { status: 400, body: 'Error!' }
    return {
      status: 200,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'subscription-userinfo': `upload=${up}; download=${down}; total=${total}; expire=${expire}`,
        'profile-update-interval': '12',
      },
      body: Buffer.from(links.join('\n')).toString('base64'),
    }
  }
}

/** Starts a fake 3X-UI (panel + subscription listener) on 127.0.0.1; see the header of this file. */
export async function startFakeXui(options: FakeXuiOptions = {}): Promise<FakeXui> {
  const holder: { fake?: FakeXui } = {}
  const server = await startFakeHttp((req) => holder.fake!.handle(req), { port: options.port, latencyMs: options.latencyMs })
  const subServer = await startFakeHttp((req) => holder.fake!.handleSub(req))
  holder.fake = new FakeXui(server, subServer, options)
  return holder.fake
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2)
  const fake = await startFakeXui({
    port: Number(cliFlag(argv, 'port') ?? 0),
    latencyMs: Number(cliFlag(argv, 'latency') ?? 0),
    basePath: cliFlag(argv, 'base-path') ?? '/',
    version: (cliFlag(argv, 'version') as FakeXuiVersion | undefined) ?? '2.9.4',
    username: cliFlag(argv, 'username') ?? 'admin',
    password: cliFlag(argv, 'password') ?? 'admin',
  })
  process.stdout.write(`fake 3X-UI listening on ${fake.url} (subscriptions on ${fake.subUrl})\n`)
  const stop = () => void fake.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
