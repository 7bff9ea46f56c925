import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { Secret, TOTP } from 'otpauth'
import { z } from 'zod'
import { healthFromError, validateCreate, validateExtend } from './common.ts'
import { PanelError } from './errors.ts'
import { PanelHttp, headerValues, normaliseBaseUrl, parseJson, type HttpResponse } from './http.ts'
import { parsePanelSettings, type PanelConnection, type XuiSettings } from './settings.ts'
import { loginCacheId, SealedSessionCache, SingleFlight, type CachedSession, type PanelStateStore } from './store.ts'
import type { CreateAccountInput, DeleteOptions, ExtendInput, PanelAccount, PanelAdapter, PanelHealth } from './types.ts'
import { assertOwnerMarker, assertValidPanelUsername, parseOwnerMarker } from './username.ts'

/**
 * 3X-UI 2.x (tested against the v2.9.4 contract, tolerant of older 2.x). Behaviour follows
 * shared/contracts/3x-ui.md:
 * - cookie session shared through the store; 401, 3xx or an empty 404 on an API call means the
 *   session is gone, so log in once more and retry once;
 * - HTTP 200 with `success:false` is an error, classified by English fragments of `msg`;
 * - the panel rewrites an inbound's whole client list on every change without a lock, so every
 *   write to one panel runs under a lock shared by all processes, and updates are read-modify-write
 *   of the full client object;
 * - 3.x removed the inbound client API; it is detected at login and refused.
 */

const EnvelopeSchema = z.object({ success: z.boolean(), msg: z.string().nullable().optional(), obj: z.unknown().optional() })
type Envelope = z.infer<typeof EnvelopeSchema>

const TrafficSchema = z.object({
  inboundId: z.number().optional(),
  enable: z.boolean().optional(),
  email: z.string(),
  up: z.number().default(0),
  down: z.number().default(0),
})
type Traffic = z.infer<typeof TrafficSchema>

const InboundSchema = z.object({
  id: z.number(),
  remark: z.string().default(''),
  enable: z.boolean().default(true),
  listen: z.string().nullable().optional(),
  port: z.number(),
  protocol: z.string(),
  settings: z.string(),
  streamSettings: z.string().nullable().optional(),
  clientStats: z.array(TrafficSchema).nullable().optional(),
})
type Inbound = z.infer<typeof InboundSchema>

// Lenient on purpose: clients edited by hand or by other tools may carry nulls or odd types; unknown
// fields pass through untouched so a read-modify-write sends them back as they were.
const ClientSchema = z
  .object({
    email: z.string().catch(''),
    id: z.string().optional().catch(undefined),
    password: z.string().optional().catch(undefined),
    auth: z.string().optional().catch(undefined),
    enable: z.boolean().catch(false),
    totalGB: z.number().catch(0),
    expiryTime: z.number().catch(0),
    subId: z.string().catch(''),
    comment: z.string().catch(''),
    flow: z.string().optional().catch(undefined),
    security: z.string().optional().catch(undefined),
  })
  .passthrough()
type Client = z.infer<typeof ClientSchema>

const SubSettingsSchema = z.object({
  subEnable: z.boolean().default(true),
  subURI: z.string().default(''),
  subDomain: z.string().default(''),
  subPort: z.number().default(2096),
  subPath: z.string().default('/sub/'),
  subCertFile: z.string().default(''),
  subKeyFile: z.string().default(''),
})

const StatusSchema = z.object({
  cpu: z.number().optional(),
  mem: z.object({ current: z.number(), total: z.number() }).optional(),
  xray: z.object({ state: z.string().optional(), version: z.string().optional(), errorMsg: z.string().optional() }).optional(),
  loads: z.array(z.number()).nullable().optional(),
})

interface ParsedInbound {
  inbound: Inbound
  settings: Record<string, unknown> & { clients: Client[] }
  stream: Record<string, unknown>
}

interface Found {
  parsed: ParsedInbound
  client: Client
  traffic: Traffic
}

/** Written into the comment of clients flowpanel disabled, so extend/reset do not revive them. */
const DISABLED_FLAG = 'flowpanel:disabled'
const PLACEHOLDER_PREFIX = 'flowpanel-keep-'
const META_CACHE_MS = 60_000
const SUB_CACHE_MS = 10 * 60_000

export interface XuiDeps {
  store: PanelStateStore
  /** Seals the session cookie cached in the store. */
  appSecret: string
  now?: () => Date
}

export class XuiAdapter implements PanelAdapter {
  readonly type = '3x-ui' as const
  readonly label: string
  private readonly base: string
  private readonly http: PanelHttp
  private readonly settings: XuiSettings
  /** Names the panel's write lock: one lock per panel address and admin, whatever the password. */
  private readonly stateId: string
  private readonly loginId: string
  private readonly flights = new SingleFlight()
  private readonly now: () => Date
  private readonly timeoutMs: number
  private readonly sessions: SealedSessionCache
  private cookie: CachedSession | undefined
  private meta: { at: number; parsed: ParsedInbound } | undefined
  private subBase: { at: number; value: string | null } | undefined

  constructor(
    private readonly connection: PanelConnection,
    private readonly deps: XuiDeps,
  ) {
    const { base, label } = normaliseBaseUrl(connection.baseUrl)
    this.base = base
    this.label = `3X-UI panel ${label}`
    this.settings = parsePanelSettings('3x-ui', connection.settings)
    this.timeoutMs = connection.timeoutMs ?? 10_000
    this.http = new PanelHttp({ label: this.label, proxyUrl: connection.proxyUrl, timeoutMs: this.timeoutMs })
    this.stateId = createHash('sha256').update(`${base}\n${connection.username}`).digest('hex').slice(0, 20)
    this.loginId = loginCacheId(deps.appSecret, base, connection)
    this.now = deps.now ?? (() => new Date())
    this.sessions = new SealedSessionCache(deps.store, deps.appSecret)
  }

  async close(): Promise<void> {
    await this.http.close()
  }

  // ---- session ------------------------------------------------------------------------------

  private get sessionKey(): string {
    return `xui:${this.loginId}:session`
  }

  private async session(): Promise<CachedSession> {
    if (this.cookie) return this.cookie
    return this.flights.run('session', async () => {
      const shared = await this.sessions.get(this.sessionKey)
      if (shared) {
        this.cookie = shared
        return shared
      }
      const { cookie, ttlMs } = await this.login()
      const fresh = await this.sessions.set(this.sessionKey, cookie, ttlMs)
      this.cookie = fresh
      return fresh
    })
  }

  private async forgetSession(stale: CachedSession): Promise<void> {
    if (this.cookie === stale) this.cookie = undefined
    await this.sessions.forget(this.sessionKey, stale)
  }

  /** 3.x serves `csrf-token`; 2.x answers 404. Anything 3.x is refused before a login is tried. */
  private async assertSupportedVersion(): Promise<void> {
    const res = await this.http.send({ method: 'GET', url: this.base + 'csrf-token', headers: { 'x-requested-with': 'XMLHttpRequest' } })
    if (res.status !== 200) return
    let envelope: unknown
    try {
      envelope = JSON.parse(res.text)
    } catch {
      return
    }
    const parsed = EnvelopeSchema.safeParse(envelope)
    if (parsed.success && parsed.data.success) {
      throw new PanelError(
        'UNSUPPORTED_PANEL_VERSION',
        `${this.label} runs 3X-UI 3.x, an unsupported panel version (flowpanel speaks the 2.x API, tested with 2.9.4)`,
      )
    }
  }

  private async login(): Promise<{ cookie: string; ttlMs: number }> {
    await this.assertSupportedVersion()
    const form: Record<string, string> = { username: this.connection.username, password: this.connection.password }
    if (this.connection.totpSecret) {
      form.twoFactorCode = new TOTP({ secret: Secret.fromBase32(this.connection.totpSecret), digits: 6, period: 30 }).generate()
    }
    const res = await this.http.send({ method: 'POST', url: this.base + 'login', form, headers: { 'x-requested-with': 'XMLHttpRequest' } })
    if (res.status === 404) {
      throw new PanelError('PANEL_MISCONFIGURED', `${this.label} has no login page at this address (check the web base path)`, { status: 404 })
    }
    if (res.status >= 500) throw new PanelError('PANEL_5XX', `${this.label} failed the login with HTTP ${res.status}`, { status: res.status })
    if (res.status !== 200) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered the login with HTTP ${res.status}`, { status: res.status })
    const envelope = this.envelope(res, 'the login')
    if (!envelope.success) {
      const msg = cleanMsg(envelope.msg)
      if (/format is invalid/i.test(msg)) throw new PanelError('PANEL_VALIDATION', `${this.label} rejected the login form: ${msg}`)
      throw new PanelError('PANEL_AUTH_FAILED', `${this.label} rejected the admin username, password or two-factor code`)
    }
    const cookies = headerValues(res, 'set-cookie')
    const pairs = cookies.map((c) => c.split(';')[0]!.trim()).filter((p) => p.includes('='))
    if (pairs.length === 0) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} accepted the login but set no session cookie`)
    const maxAges = cookies.map((c) => /max-age=(\d+)/i.exec(c)?.[1]).filter((v): v is string => v !== undefined).map(Number)
    const maxAgeMs = maxAges.length > 0 && maxAges[0]! > 0 ? maxAges[0]! * 1000 : 3_600_000
    return { cookie: pairs.join('; '), ttlMs: Math.max(30_000, maxAgeMs - 60_000) }
  }

  private envelope(res: HttpResponse, what: string): Envelope {
    const parsed = EnvelopeSchema.safeParse(parseJson(res, this.label, what))
    if (!parsed.success) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered ${what} without the {success, msg, obj} envelope`, { status: res.status })
    return parsed.data
  }

  /** An authenticated call returning the envelope (which may say `success:false`). */
  private async api(method: 'GET' | 'POST', path: string, json?: unknown): Promise<Envelope> {
    const what = `${method} /${path}`
    const send = (session: CachedSession) =>
      this.http.send({ method, url: this.base + path, json, headers: { cookie: session.value, 'x-requested-with': 'XMLHttpRequest' } })
    const session = await this.session()
    let res = await send(session)
    if (sessionGone(res)) {
      await this.forgetSession(session)
      res = await send(await this.session())
      if (sessionGone(res)) {
        throw new PanelError('PANEL_SESSION_EXPIRED', `${this.label} refused a session it had just issued (${what}, HTTP ${res.status})`, { status: res.status })
      }
    }
    if (res.status >= 500) throw new PanelError('PANEL_5XX', `${this.label} failed ${what} with HTTP ${res.status}`, { status: res.status })
    if (res.status !== 200) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered ${what} with HTTP ${res.status}`, { status: res.status })
    return this.envelope(res, what)
  }

  private failure(envelope: Envelope, what: string): PanelError {
    const msg = cleanMsg(envelope.msg)
    if (/record not found/i.test(msg)) {
      return new PanelError('INBOUND_MISSING', `inbound ${this.settings.inboundId} does not exist on ${this.label} (${what}: ${msg})`)
    }
    if (/empty client ID|not found/i.test(msg)) return new PanelError('NOT_FOUND', `${this.label}: ${what} found no such client (${msg})`)
    if (/format is invalid/i.test(msg)) return new PanelError('PANEL_VALIDATION', `${this.label} rejected ${what}: ${msg}`)
    return new PanelError('PANEL_REJECTED', `${this.label} refused ${what}: ${msg || 'no reason given'}`)
  }

  private lock<T>(fn: () => Promise<T>): Promise<T> {
    return this.deps.store.withLock(
      `xui:${this.stateId}:write-lock`,
      { ttlMs: this.timeoutMs * 6 + 5_000, waitMs: Math.max(30_000, this.timeoutMs * 3), label: this.label },
      fn,
    )
  }

  // ---- reading ------------------------------------------------------------------------------

  private parseInbound(raw: unknown, what: string): ParsedInbound {
    const inbound = InboundSchema.safeParse(raw)
    if (!inbound.success) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered ${what} with an unexpected inbound shape`)
    let settings: Record<string, unknown>
    let stream: Record<string, unknown>
    try {
      settings = JSON.parse(inbound.data.settings) as Record<string, unknown>
      stream = inbound.data.streamSettings ? (JSON.parse(inbound.data.streamSettings) as Record<string, unknown>) : {}
    } catch (error) {
      throw new PanelError('PANEL_BAD_RESPONSE', `${this.label}: inbound ${inbound.data.id} has settings that are not JSON`, { cause: error })
    }
    const rawClients: unknown[] = Array.isArray(settings.clients) ? settings.clients : []
    const clients = rawClients.filter((c) => c !== null && typeof c === 'object').map((c) => ClientSchema.parse(c))
    return { inbound: inbound.data, settings: { ...settings, clients }, stream }
  }

  private async getInbound(id: number): Promise<ParsedInbound> {
    const envelope = await this.api('GET', `panel/api/inbounds/get/${id}`)
    if (!envelope.success) {
      const msg = cleanMsg(envelope.msg)
      if (/record not found/i.test(msg)) throw new PanelError('INBOUND_MISSING', `inbound ${id} does not exist on ${this.label}`)
      throw this.failure(envelope, `reading inbound ${id}`)
    }
    return this.parseInbound(envelope.obj, `inbound ${id}`)
  }

  private async configuredInbound(): Promise<ParsedInbound> {
    if (this.meta && Date.now() - this.meta.at < META_CACHE_MS) return this.meta.parsed
    const parsed = await this.getInbound(this.settings.inboundId)
    this.meta = { at: Date.now(), parsed }
    return parsed
  }

  private async findClient(email: string): Promise<Found | null> {
    const envelope = await this.api('GET', `panel/api/inbounds/getClientTraffics/${encodeURIComponent(email)}`)
    if (!envelope.success) {
      if (/not found/i.test(cleanMsg(envelope.msg))) return null
      throw this.failure(envelope, `the lookup of client ${email}`)
    }
    // 3X-UI up to 2.8.0 answers an unknown email with success and a null object.
    if (envelope.obj === null || envelope.obj === undefined) return null
    const traffic = TrafficSchema.safeParse(envelope.obj)
    if (!traffic.success || traffic.data.inboundId === undefined) {
      throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered the traffic of ${email} with an unexpected shape`)
    }
    const parsed = await this.getInbound(traffic.data.inboundId)
    const client = parsed.settings.clients.find((c) => c.email.toLowerCase() === email.toLowerCase())
    if (!client) return null
    return { parsed, client, traffic: traffic.data }
  }

  private async requireClient(email: string): Promise<Found> {
    const found = await this.findClient(email)
    if (!found) throw new PanelError('NOT_FOUND', `client ${email} does not exist on ${this.label}`)
    return found
  }

  private async subscriptionBase(): Promise<string | null> {
    if (this.settings.subscriptionBaseUrl) return withSlash(this.settings.subscriptionBaseUrl)
    if (this.subBase && Date.now() - this.subBase.at < SUB_CACHE_MS) return this.subBase.value
    const envelope = await this.api('POST', 'panel/setting/all')
    if (!envelope.success) throw this.failure(envelope, 'reading the panel settings')
    const s = SubSettingsSchema.safeParse(envelope.obj ?? {})
    if (!s.success) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered the panel settings with an unexpected shape`)
    let value: string | null
    if (!s.data.subEnable) value = null
    else if (s.data.subURI) value = withSlash(s.data.subURI)
    else {
      const https = s.data.subCertFile !== '' && s.data.subKeyFile !== ''
      const host = s.data.subDomain || this.publicHost()
      const defaultPort = https ? 443 : 80
      const port = s.data.subPort === defaultPort ? '' : `:${s.data.subPort}`
      const path = withSlash(s.data.subPath.startsWith('/') ? s.data.subPath : `/${s.data.subPath}`)
      value = `${https ? 'https' : 'http'}://${formatHost(host)}${port}${path}`
    }
    this.subBase = { at: Date.now(), value }
    return value
  }

  private publicHost(): string {
    return this.settings.publicHost ?? new URL(this.base).hostname
  }

  private toAccount(found: { parsed: ParsedInbound; client: Client; traffic: Pick<Traffic, 'up' | 'down' | 'enable'> }, subBase: string | null): PanelAccount {
    const { client, traffic } = found
    const now = this.now().getTime()
    const used = traffic.up + traffic.down
    let status: PanelAccount['status']
    if (hasFlag(client.comment)) status = 'disabled'
    else if (client.expiryTime > 0 && client.expiryTime <= now) status = 'expired'
    else if (client.totalGB > 0 && used >= client.totalGB) status = 'limited'
    else if (!client.enable || traffic.enable === false) status = 'disabled'
    else status = 'active'
    return {
      username: client.email,
      status,
      usedBytes: used,
      dataLimitBytes: client.totalGB,
      expiresAt: client.expiryTime > 0 ? new Date(client.expiryTime) : null,
      subscriptionUrl: subBase && client.subId ? subBase + encodeURIComponent(client.subId) : null,
      links: shareLinks(found.parsed, client, this.publicHost()),
      owner: parseOwnerMarker(client.comment),
    }
  }

  // ---- writing ------------------------------------------------------------------------------

  private async postClient(path: string, inboundId: number, client: Client | Record<string, unknown>): Promise<Envelope> {
    return this.api('POST', path, { id: inboundId, settings: JSON.stringify({ clients: [client] }) })
  }

  /** Read-modify-write of one client under the panel's write lock; updateClient replaces the whole object. */
  private async mutate(email: string, what: string, change: (client: Client, found: Found) => Client): Promise<PanelAccount> {
    assertValidPanelUsername(email)
    const subBase = await this.subscriptionBase()
    return this.lock(async () => {
      const found = await this.requireClient(email)
      const next = change({ ...found.client }, found)
      const key = clientKey(found.parsed.inbound.protocol, found.client)
      if (!key) throw new PanelError('PANEL_BAD_RESPONSE', `client ${email} on ${this.label} has no key for protocol ${found.parsed.inbound.protocol}`)
      const envelope = await this.postClient(`panel/api/inbounds/updateClient/${encodeURIComponent(key)}`, found.parsed.inbound.id, next)
      if (!envelope.success) throw this.failure(envelope, `${what} of client ${email}`)
      return this.toAccount({ parsed: found.parsed, client: next, traffic: { ...found.traffic, enable: next.enable } }, subBase)
    })
  }

  async createAccount(input: CreateAccountInput): Promise<PanelAccount> {
    validateCreate(input)
    const subBase = await this.subscriptionBase()
    const parsed = await this.configuredInbound()
    const client = newClient(parsed, input, this.settings)
    const outcome = await this.lock(async () => {
      const envelope = await this.postClient('panel/api/inbounds/addClient', parsed.inbound.id, client)
      if (envelope.success) return 'created' as const
      if (/duplicate email/i.test(cleanMsg(envelope.msg))) return 'exists' as const
      throw this.failure(envelope, `adding client ${input.username}`)
    })
    if (outcome === 'created') return this.toAccount({ parsed, client, traffic: { up: 0, down: 0, enable: true } }, subBase)

    const found = await this.findClient(input.username)
    if (!found) throw new PanelError('PANEL_REJECTED', `${this.label} said client ${input.username} exists, then could not find it`)
    const owner = parseOwnerMarker(found.client.comment)
    if (owner !== input.owner) {
      throw new PanelError(
        'USERNAME_TAKEN_BY_OTHER',
        `client ${input.username} on ${this.label} already exists and belongs to ${owner ?? 'a client flowpanel did not create'}, not ${input.owner}`,
      )
    }
    return this.toAccount(found, subBase)
  }

  async getAccount(username: string): Promise<PanelAccount | null> {
    assertValidPanelUsername(username)
    const found = await this.findClient(username)
    return found ? this.toAccount(found, await this.subscriptionBase()) : null
  }

  async extend(input: ExtendInput): Promise<PanelAccount> {
    validateExtend(input)
    const now = this.now().getTime()
    return this.mutate(input.username, 'extending', (client) => {
      if (input.newExpiresAt !== undefined) client.expiryTime = input.newExpiresAt ? input.newExpiresAt.getTime() : 0
      else if (input.addDays !== undefined) {
        const add = Math.round(input.addDays * 86_400_000)
        // Negative expiry = "starts at first use": a longer duration is a more negative number.
        if (client.expiryTime > 0) client.expiryTime = Math.max(client.expiryTime, now) + add
        else if (client.expiryTime < 0) client.expiryTime -= add
      }
      if (input.newDataLimitBytes !== undefined) client.totalGB = input.newDataLimitBytes
      else if (input.addBytes !== undefined && client.totalGB > 0) client.totalGB += input.addBytes
      // The panel switches depleted clients off in their settings; renewing must switch them on again.
      if (!hasFlag(client.comment)) client.enable = true
      return client
    })
  }

  async disable(username: string): Promise<PanelAccount> {
    return this.mutate(username, 'disabling', (client) => {
      client.enable = false
      if (!hasFlag(client.comment)) client.comment = `${client.comment} ${DISABLED_FLAG}`.trim()
      return client
    })
  }

  async enable(username: string): Promise<PanelAccount> {
    return this.mutate(username, 'enabling', (client) => {
      client.enable = true
      client.comment = removeFlag(client.comment)
      return client
    })
  }

  async resetUsage(username: string): Promise<PanelAccount> {
    assertValidPanelUsername(username)
    const subBase = await this.subscriptionBase()
    return this.lock(async () => {
      const found = await this.requireClient(username)
      const { inbound } = found.parsed
      const envelope = await this.api('POST', `panel/api/inbounds/${inbound.id}/resetClientTraffic/${encodeURIComponent(found.client.email)}`)
      if (!envelope.success) throw this.failure(envelope, `resetting the traffic of client ${username}`)
      let client = found.client
      // 3X-UI 2.9.4 also switched a depleted client off in its settings; reset alone leaves it off.
      if (!client.enable && !hasFlag(client.comment)) {
        client = { ...client, enable: true }
        const key = clientKey(inbound.protocol, found.client)
        const update = await this.postClient(`panel/api/inbounds/updateClient/${encodeURIComponent(key ?? '')}`, inbound.id, client)
        if (!update.success) throw this.failure(update, `re-enabling client ${username} after a reset`)
      }
      return this.toAccount({ parsed: found.parsed, client, traffic: { up: 0, down: 0, enable: client.enable } }, subBase)
    })
  }

  async delete(username: string, options: DeleteOptions = {}): Promise<void> {
    assertValidPanelUsername(username)
    if (options.owner !== undefined) assertOwnerMarker(options.owner)
    await this.lock(async () => {
      const found = await this.findClient(username)
      if (!found) return
      const owner = parseOwnerMarker(found.client.comment)
      if (options.owner !== undefined && owner !== options.owner) {
        throw new PanelError(
          'USERNAME_TAKEN_BY_OTHER',
          `client ${username} on ${this.label} belongs to ${owner ?? 'a client flowpanel did not create'}, not ${options.owner}; not deleted`,
        )
      }
      const { inbound } = found.parsed
      const key = clientKey(inbound.protocol, found.client)
      if (!key) throw new PanelError('PANEL_BAD_RESPONSE', `client ${username} on ${this.label} has no key for protocol ${inbound.protocol}`)
      const del = () => this.api('POST', `panel/api/inbounds/${inbound.id}/delClient/${encodeURIComponent(key)}`)
      let envelope = await del()
      if (!envelope.success && /no client remained/i.test(cleanMsg(envelope.msg))) {
        // 3X-UI refuses to empty an inbound: park a disabled placeholder client there first.
        const placeholder = newPlaceholder(found.parsed)
        const added = await this.postClient('panel/api/inbounds/addClient', inbound.id, placeholder)
        if (!added.success) throw this.failure(added, `adding a placeholder client to inbound ${inbound.id}`)
        envelope = await del()
      }
      if (envelope.success || /not found/i.test(cleanMsg(envelope.msg))) return
      throw this.failure(envelope, `deleting client ${username}`)
    })
  }

  async listAccounts(): Promise<PanelAccount[]> {
    const subBase = await this.subscriptionBase()
    const envelope = await this.api('GET', 'panel/api/inbounds/list')
    if (!envelope.success) throw this.failure(envelope, 'listing the inbounds')
    if (!Array.isArray(envelope.obj)) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered the inbound list with an unexpected shape`)
    const out: PanelAccount[] = []
    const seen = new Set<string>()
    for (const raw of envelope.obj) {
      const parsed = this.parseInbound(raw, 'the inbound list')
      const stats = new Map((parsed.inbound.clientStats ?? []).map((s) => [s.email.toLowerCase(), s]))
      for (const client of parsed.settings.clients) {
        const email = client.email.toLowerCase()
        if (!email || email.startsWith(PLACEHOLDER_PREFIX) || seen.has(email)) continue
        seen.add(email)
        const traffic = stats.get(email) ?? { email, up: 0, down: 0, enable: client.enable }
        out.push(this.toAccount({ parsed, client, traffic }, subBase))
      }
    }
    return out
  }

  async health(): Promise<PanelHealth> {
    const started = performance.now()
    try {
      const envelope = await this.api('GET', 'panel/api/server/status')
      if (!envelope.success) throw this.failure(envelope, 'reading the server status')
      const parsed = StatusSchema.safeParse(envelope.obj ?? {})
      if (!parsed.success) throw new PanelError('PANEL_BAD_RESPONSE', `${this.label} answered the server status with an unexpected shape`)
      const s = parsed.data
      const xrayState = s.xray?.state
      const health: PanelHealth = {
        reachable: true,
        ok: xrayState === undefined || xrayState === 'running',
        version: '2.x',
        coreVersion: s.xray?.version ?? null,
        latencyMs: Math.round(performance.now() - started),
        load: { cpuPercent: s.cpu, memUsedBytes: s.mem?.current, memTotalBytes: s.mem?.total, load1: s.loads?.[0] },
      }
      if (!health.ok) health.error = { code: 'CORE_NOT_RUNNING', message: `Xray on ${this.label} is ${xrayState}` }
      return health
    } catch (error) {
      return healthFromError(error, started)
    }
  }
}

// ---- helpers ------------------------------------------------------------------------------------

function sessionGone(res: HttpResponse): boolean {
  return res.status === 401 || (res.status >= 300 && res.status < 400) || (res.status === 404 && res.text.trim() === '')
}

function cleanMsg(msg: string | null | undefined): string {
  return (msg ?? '').replace(/\s+/g, ' ').trim()
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`
}

function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

function hasFlag(comment: string): boolean {
  return comment.split(/\s+/).includes(DISABLED_FLAG)
}

function removeFlag(comment: string): string {
  return comment
    .split(/\s+/)
    .filter((w) => w && w !== DISABLED_FLAG)
    .join(' ')
}

/** The field 3X-UI uses as a client's key in URLs, by inbound protocol. */
function clientKey(protocol: string, client: Client): string | undefined {
  switch (protocol) {
    case 'trojan':
      return client.password
    case 'shadowsocks':
      return client.email
    case 'hysteria':
    case 'hysteria2':
      return client.auth
    default:
      return client.id
  }
}

function randomSubId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
  const bytes = randomBytes(16)
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('')
}

function newClient(parsed: ParsedInbound, input: CreateAccountInput, settings: XuiSettings): Client {
  const comment = input.note ? `${input.owner} ${input.note}` : input.owner
  const client: Client = {
    email: input.username,
    enable: true,
    totalGB: input.dataLimitBytes,
    expiryTime: input.expiresAt ? input.expiresAt.getTime() : 0,
    subId: randomSubId(),
    comment,
    limitIp: settings.limitIp ?? 0,
    tgId: 0,
    reset: 0,
  }
  return { ...client, ...protocolKey(parsed, settings) }
}

function newPlaceholder(parsed: ParsedInbound): Client {
  return {
    email: `${PLACEHOLDER_PREFIX}${parsed.inbound.id}-${randomBytes(3).toString('hex')}`,
    enable: false,
    totalGB: 0,
    expiryTime: 0,
    subId: randomSubId(),
    comment: 'placeholder kept by flowpanel: 3X-UI cannot delete the last client of an inbound',
    limitIp: 0,
    tgId: 0,
    reset: 0,
    ...protocolKey(parsed, {}),
  }
}

function protocolKey(parsed: ParsedInbound, settings: Pick<XuiSettings, 'flow'>): Record<string, string> {
  const protocol = parsed.inbound.protocol
  switch (protocol) {
    case 'vmess':
      return { id: randomUUID(), security: 'auto' }
    case 'vless':
      return { id: randomUUID(), flow: settings.flow ?? '' }
    case 'trojan':
      return { password: randomBytes(12).toString('hex') }
    case 'shadowsocks': {
      const method = typeof parsed.settings.method === 'string' ? parsed.settings.method : ''
      const size = method.includes('128') ? 16 : 32
      return { password: randomBytes(size).toString('base64'), method }
    }
    case 'hysteria':
    case 'hysteria2':
      return { auth: randomBytes(12).toString('hex') }
    default:
      throw new PanelError('INBOUND_MISSING', `inbound ${parsed.inbound.id} is a ${protocol} inbound, which has no per-user clients`)
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
}

/** Share links as the panel's subscription would list them (first SNI / short id instead of random picks). */
function shareLinks(parsed: ParsedInbound, client: Client, publicHost: string): string[] {
  const { inbound, stream, settings } = parsed
  const listen = inbound.listen ?? ''
  const concreteIp = /^[0-9.]+$/.test(listen) && listen !== '0.0.0.0'
  const address = formatHost(concreteIp ? listen : publicHost)
  const network = str(stream.network) ?? 'tcp'
  const security = str(stream.security) ?? 'none'
  const remark = `${inbound.remark}-${client.email}`
  const params: Record<string, string> = { type: network }
  let headerType: string | undefined
  let host: string | undefined
  let path: string | undefined
  if (network === 'tcp') {
    const header = obj(obj(stream.tcpSettings).header)
    if (str(header.type) === 'http') {
      headerType = 'http'
      const request = obj(header.request)
      path = Array.isArray(request.path) ? String(request.path[0] ?? '/') : undefined
      const hosts = obj(request.headers).Host
      host = Array.isArray(hosts) ? String(hosts[0] ?? '') : undefined
    }
  } else if (network === 'ws' || network === 'httpupgrade' || network === 'xhttp') {
    const ns = obj(stream[`${network}Settings`])
    path = str(ns.path)
    host = str(ns.host) ?? str(obj(ns.headers).Host)
    if (network === 'xhttp' && str(ns.mode)) params.mode = ns.mode as string
  } else if (network === 'grpc') {
    const g = obj(stream.grpcSettings)
    if (str(g.serviceName)) params.serviceName = g.serviceName as string
    if (g.multiMode === true) params.mode = 'multi'
  }
  if (headerType) params.headerType = headerType
  if (path) params.path = path
  if (host) params.host = host
  params.security = security
  let sni: string | undefined
  let fp: string | undefined
  let alpn: string | undefined
  if (security === 'tls') {
    const tls = obj(stream.tlsSettings)
    sni = str(tls.serverName)
    alpn = Array.isArray(tls.alpn) ? tls.alpn.join(',') : undefined
    fp = str(obj(tls.settings).fingerprint)
  } else if (security === 'reality') {
    const reality = obj(stream.realitySettings)
    const rs = obj(reality.settings)
    sni = Array.isArray(reality.serverNames) ? str(reality.serverNames[0]) : undefined
    const sid = Array.isArray(reality.shortIds) ? str(reality.shortIds[0]) : undefined
    if (str(rs.publicKey)) params.pbk = rs.publicKey as string
    if (sid) params.sid = sid
    if (str(rs.spiderX)) params.spx = rs.spiderX as string
    fp = str(rs.fingerprint)
  }
  if (sni) params.sni = sni
  if (fp) params.fp = fp
  if (alpn) params.alpn = alpn
  if (network === 'tcp' && security !== 'none' && client.flow) params.flow = client.flow
  const query = new URLSearchParams(Object.entries(params).sort(([a], [b]) => a.localeCompare(b))).toString()
  const fragment = encodeURIComponent(remark)
  switch (inbound.protocol) {
    case 'vless':
      if (!client.id) return []
      params.encryption = str(settings.decryption) ?? 'none'
      return [`vless://${client.id}@${address}:${inbound.port}?${new URLSearchParams(Object.entries(params).sort(([a], [b]) => a.localeCompare(b)))}#${fragment}`]
    case 'trojan':
      return client.password ? [`trojan://${encodeURIComponent(client.password)}@${address}:${inbound.port}?${query}#${fragment}`] : []
    case 'vmess': {
      if (!client.id) return []
      const vmess = {
        v: '2',
        ps: remark,
        add: concreteIp ? listen : publicHost,
        port: inbound.port,
        id: client.id,
        scy: client.security || 'auto',
        net: network,
        type: headerType ?? 'none',
        host: host ?? '',
        path: path ?? '',
        tls: security === 'tls' ? 'tls' : '',
        sni: sni ?? '',
        alpn: alpn ?? '',
        fp: fp ?? '',
      }
      return [`vmess://${Buffer.from(JSON.stringify(vmess, null, 2)).toString('base64')}`]
    }
    case 'shadowsocks': {
      const method = str(settings.method) ?? ''
      const clientPassword = str(client.password)
      if (!method || !clientPassword) return []
      const serverPassword = str(settings.password)
      const userinfo = method.startsWith('2022') && serverPassword ? `${method}:${serverPassword}:${clientPassword}` : `${method}:${clientPassword}`
      return [`ss://${Buffer.from(userinfo).toString('base64url')}@${address}:${inbound.port}#${fragment}`]
    }
    default:
      return []
  }
}
