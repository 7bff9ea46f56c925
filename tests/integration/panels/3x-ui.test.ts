import { Secret, TOTP } from 'otpauth'
import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { XuiAdapter } from '#activities/panels/3x-ui.ts'
import type { PanelConnection } from '#activities/panels/settings.ts'
import { MemoryPanelStore, type PanelStateStore } from '#activities/panels/store.ts'
import { ownerMarker } from '#activities/panels/username.ts'
import { startFakeProxy } from '#tests/fakes/http.ts'
import { startFakeXui, type FakeXui, type FakeXuiOptions } from '#tests/fakes/3x-ui.ts'
import { createTestStore, DAY_MS, expectPanelError, GB, TEST_APP_SECRET } from './helpers.ts'

const SECRET_PASSWORD = 'xui-secret-password-77'

let panel: FakeXui
const extraPanels: FakeXui[] = []
const state = createTestStore('xui')
const adapters: XuiAdapter[] = []

function adapter(overrides: Partial<PanelConnection> = {}, store: PanelStateStore = state.store, on: FakeXui = panel): XuiAdapter {
  const a = new XuiAdapter(
    { type: '3x-ui', baseUrl: on.url, username: 'admin', password: SECRET_PASSWORD, settings: { inboundId: 1 }, timeoutMs: 2_000, ...overrides },
    { store, appSecret: TEST_APP_SECRET, now: () => new Date(on.now()) },
  )
  adapters.push(a)
  return a
}

async function otherPanel(options: FakeXuiOptions): Promise<FakeXui> {
  const p = await startFakeXui({ password: SECRET_PASSWORD, ...options })
  extraPanels.push(p)
  return p
}

beforeAll(async () => {
  panel = await startFakeXui({ basePath: '/x9Secret/', password: SECRET_PASSWORD })
})

afterEach(async () => {
  panel.latencyMs = 0
  panel.writeLatencyMs = 0
  panel.hang = false
  await panel.up()
  await Promise.all(adapters.splice(0).map((a) => a.close()))
})

afterAll(async () => {
  await Promise.all([panel.close(), ...extraPanels.map((p) => p.close())])
  await state.cleanup()
})

let nextOrder = 5000
function order(): { username: string; owner: string } {
  nextOrder++
  return { username: `fp_${nextOrder}`, owner: ownerMarker(nextOrder) }
}

describe('3X-UI adapter: accounts', () => {
  it('adds a client to the configured inbound with normalised units and a working subscription URL', async () => {
    const o = order()
    const expiresAt = new Date(panel.now() + 30 * DAY_MS)
    const account = await adapter({ settings: { inboundId: 1, flow: 'xtls-rprx-vision' } }).createAccount({ ...o, expiresAt, dataLimitBytes: 20 * GB, note: 'vip' })
    expect(account).toMatchObject({ username: o.username, status: 'active', usedBytes: 0, dataLimitBytes: 20 * GB, owner: o.owner })
    expect(account.expiresAt!.getTime()).toBe(expiresAt.getTime())

    const stored = panel.client(o.username)!
    expect(stored).toMatchObject({ email: o.username, totalGB: 20 * GB, expiryTime: expiresAt.getTime(), enable: true, comment: `${o.owner} vip`, flow: 'xtls-rprx-vision', tgId: 0 })
    expect(String(stored.subId)).toMatch(/^[a-z0-9]{16}$/)
    expect(panel.clients(1).map((c) => c.email)).toContain(o.username)
    expect(panel.trafficOf(o.username)).toMatchObject({ inboundId: 1, total: 20 * GB, enable: true })

    expect(account.subscriptionUrl).toBe(`${panel.subUrl}/sub/${String(stored.subId)}`)
    const sub = await request(account.subscriptionUrl!)
    expect(sub.statusCode).toBe(200)
    expect(String(sub.headers['subscription-userinfo'])).toContain(`total=${20 * GB}`)
    await sub.body.text()

    const link = new URL(account.links[0]!)
    expect(link.protocol).toBe('vless:')
    expect(link.username).toBe(String(stored.id))
    expect(link.hostname).toBe('127.0.0.1')
    expect(Object.fromEntries(link.searchParams)).toMatchObject({ security: 'reality', sni: 'www.example.com', sid: '6ba85179e30d4fc2', fp: 'chrome', flow: 'xtls-rprx-vision', encryption: 'none', type: 'tcp' })
  })

  it('builds vmess and trojan clients with their protocol keys and links', async () => {
    const vmess = order()
    const v = await adapter({ settings: { inboundId: 2, publicHost: 'vpn.example.com' } }).createAccount({ ...vmess, expiresAt: null, dataLimitBytes: 0 })
    const decoded = JSON.parse(Buffer.from(v.links[0]!.replace('vmess://', ''), 'base64').toString('utf8')) as Record<string, unknown>
    expect(decoded).toMatchObject({ add: 'vpn.example.com', port: 8443, net: 'ws', path: '/ws', host: 'cdn.example.com', tls: 'tls', sni: 'cdn.example.com' })
    expect(decoded.id).toBe(panel.client(vmess.username)!.id)

    const trojan = order()
    const t = await adapter({ settings: { inboundId: 3 } }).createAccount({ ...trojan, expiresAt: null, dataLimitBytes: 0 })
    const password = String(panel.client(trojan.username)!.password)
    expect(password.length).toBeGreaterThan(8)
    expect(t.links[0]).toMatch(new RegExp(`^trojan://${password}@127\\.0\\.0\\.1:2083\\?`))
    await adapter({ settings: { inboundId: 3 } }).disable(trojan.username)
    expect(panel.client(trojan.username)!.enable).toBe(false)
  })

  it('uses the subscription URI or reports no URL when subscriptions are off', async () => {
    const withUri = await otherPanel({ sub: { uri: 'https://sub.example.com/s' } })
    const a = await adapter({}, state.store, withUri).createAccount({ ...order(), expiresAt: null, dataLimitBytes: 0 })
    expect(a.subscriptionUrl).toMatch(/^https:\/\/sub\.example\.com\/s\/[a-z0-9]{16}$/)
    const off = await otherPanel({ sub: { enable: false } })
    const b = await adapter({}, state.store, off).createAccount({ ...order(), expiresAt: null, dataLimitBytes: 0 })
    expect(b.subscriptionUrl).toBeNull()
  })

  it('counts a repeated create of our own client as success, keeping its subscription', async () => {
    const a = adapter()
    const o = order()
    const input = { ...o, expiresAt: new Date(panel.now() + DAY_MS), dataLimitBytes: GB }
    const first = await a.createAccount(input)
    const second = await a.createAccount(input)
    expect(second.subscriptionUrl).toBe(first.subscriptionUrl)
    expect(panel.clients().filter((c) => c.email === o.username)).toHaveLength(1)
  })

  it('refuses an email used by a foreign client in any inbound', async () => {
    const o = order()
    panel.seedClient(2, { email: o.username.toUpperCase(), comment: 'manual customer' })
    const error = await expectPanelError(adapter().createAccount({ ...o, expiresAt: null, dataLimitBytes: GB }), 'USERNAME_TAKEN_BY_OTHER', /flowpanel did not create/)
    expect(error.kind).toBe('non_retryable')
    const other = order()
    panel.seedClient(1, { email: other.username, comment: ownerMarker(7) })
    await expectPanelError(adapter().createAccount({ ...other, expiresAt: null, dataLimitBytes: GB }), 'USERNAME_TAKEN_BY_OTHER', /flowpanel:order:7,/)
    expect(panel.client(other.username)!.comment).toBe(ownerMarker(7))
  })

  it('reads accounts: null when missing, limited and expired from usage and time', async () => {
    const a = adapter()
    expect(await a.getAccount('fp_nobody')).toBeNull()
    const o = order()
    await a.createAccount({ ...o, expiresAt: new Date(panel.now() + DAY_MS), dataLimitBytes: GB })
    panel.addTraffic(o.username, GB / 4)
    expect(await a.getAccount(o.username)).toMatchObject({ status: 'active', usedBytes: GB / 4 })
    panel.addTraffic(o.username, GB)
    expect(await a.getAccount(o.username)).toMatchObject({ status: 'limited', usedBytes: GB + GB / 4 })

    const e = order()
    await a.createAccount({ ...e, expiresAt: new Date(panel.now() + 1_000), dataLimitBytes: 0 })
    panel.advance(2_000)
    panel.tick()
    expect((await a.getAccount(e.username))!.status).toBe('expired')
    expect(panel.client(e.username)!.enable).toBe(false)
  })

  it('extends by read-modify-write, keeps every other field, and revives a depleted client', async () => {
    const a = adapter()
    const o = order()
    const expiry = panel.now() + 5 * DAY_MS
    await a.createAccount({ ...o, expiresAt: new Date(expiry), dataLimitBytes: GB })
    const before = panel.client(o.username)!
    panel.addTraffic(o.username, 2 * GB)
    panel.tick()
    expect(panel.client(o.username)!.enable).toBe(false)
    expect(panel.trafficOf(o.username)!.enable).toBe(false)

    const extended = await a.extend({ username: o.username, addDays: 30, addBytes: 5 * GB })
    expect(extended.expiresAt!.getTime()).toBe(expiry + 30 * DAY_MS)
    expect(extended.dataLimitBytes).toBe(6 * GB)
    expect(extended.status).toBe('active')
    const after = panel.client(o.username)!
    expect(after).toMatchObject({ id: before.id, subId: before.subId, comment: before.comment, email: o.username, enable: true, totalGB: 6 * GB })
    expect(panel.trafficOf(o.username)).toMatchObject({ enable: true, down: 2 * GB })

    const absolute = await a.extend({ username: o.username, newExpiresAt: null, newDataLimitBytes: 0 })
    expect(absolute).toMatchObject({ expiresAt: null, dataLimitBytes: 0, status: 'active' })
    await expectPanelError(a.extend({ username: 'fp_missing', addDays: 1 }), 'NOT_FOUND')
  })

  it('sends back fields it does not know and tolerates hand-edited clients', async () => {
    const o = order()
    panel.seedClient(1, { email: o.username, comment: o.owner, tgId: 123456789, limitIp: 2, customField: 'keep me' })
    panel.seedClient(1, { email: 'handmade', comment: null, totalGB: '5', enable: null })
    const a = adapter()
    await a.disable(o.username)
    expect(panel.client(o.username)).toMatchObject({ tgId: 123456789, limitIp: 2, customField: 'keep me', enable: false })
    const listed = await a.listAccounts()
    expect(listed.find((x) => x.username === 'handmade')).toMatchObject({ dataLimitBytes: 0, owner: null })
  })

  it('disables and enables; a disabled client stays disabled through extend and reset', async () => {
    const a = adapter()
    const o = order()
    await a.createAccount({ ...o, expiresAt: null, dataLimitBytes: GB })
    expect((await a.disable(o.username)).status).toBe('disabled')
    expect(panel.client(o.username)!.enable).toBe(false)
    expect((await a.extend({ username: o.username, addBytes: GB })).status).toBe('disabled')
    expect((await a.resetUsage(o.username)).status).toBe('disabled')
    expect(panel.client(o.username)!.enable).toBe(false)
    const enabled = await a.enable(o.username)
    expect(enabled.status).toBe('active')
    expect(panel.client(o.username)).toMatchObject({ enable: true, comment: o.owner })
    await expectPanelError(a.enable('fp_missing'), 'NOT_FOUND')
  })

  it('resets usage and re-enables a client the panel switched off for its traffic', async () => {
    const a = adapter()
    const o = order()
    await a.createAccount({ ...o, expiresAt: null, dataLimitBytes: GB })
    panel.addTraffic(o.username, 2 * GB)
    panel.tick()
    const reset = await a.resetUsage(o.username)
    expect(reset).toMatchObject({ usedBytes: 0, status: 'active' })
    expect(panel.client(o.username)!.enable).toBe(true)
    expect(panel.trafficOf(o.username)).toMatchObject({ up: 0, down: 0, enable: true })
    await expectPanelError(a.resetUsage('fp_missing'), 'NOT_FOUND')
  })

  it('deletes idempotently, even the last client of an inbound, and never a foreign one', async () => {
    const lonely = await otherPanel({ inbounds: [{ id: 1, protocol: 'vless', port: 443, remark: 'only' }] })
    const a = adapter({}, state.store, lonely)
    const o = order()
    await a.createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })
    await a.delete(o.username, { owner: o.owner })
    expect(lonely.client(o.username)).toBeUndefined()
    expect(lonely.trafficOf(o.username)).toBeUndefined()
    const left = lonely.clients(1)
    expect(left).toHaveLength(1)
    expect(left[0]).toMatchObject({ enable: false })
    expect(String(left[0]!.email)).toMatch(/^flowpanel-keep-1-/)
    await a.delete(o.username, { owner: o.owner })

    const foreign = order()
    panel.seedClient(1, { email: foreign.username, comment: 'someone else' })
    await expectPanelError(adapter().delete(foreign.username, { owner: foreign.owner }), 'USERNAME_TAKEN_BY_OTHER')
    expect(panel.client(foreign.username)).toBeDefined()
  })

  it('lists clients of every inbound without placeholders', async () => {
    const a = adapter()
    const o = order()
    await a.createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })
    panel.addTraffic(o.username, 1234)
    const all = await a.listAccounts()
    const emails = panel
      .clients()
      .map((c) => String(c.email))
      .filter((e) => !e.startsWith('flowpanel-keep-'))
    expect(all.map((x) => x.username).sort()).toEqual(emails.sort())
    expect(emails.length).toBeGreaterThan(5)
    expect(all.find((x) => x.username === o.username)).toMatchObject({ usedBytes: 1234, owner: o.owner })
  })
})

describe('3X-UI adapter: sessions and versions', () => {
  it('logs in once and shares the session cookie with other processes', async () => {
    const fresh = await otherPanel({})
    const a = adapter({}, state.store, fresh)
    await Promise.all(Array.from({ length: 6 }, () => a.getAccount('fp_nobody')))
    await adapter({}, state.newStore(), fresh).getAccount('fp_nobody')
    expect(fresh.counts.login).toBe(1)
  })

  it('logs in again when the panel answers an empty 404 for an expired session (2.9.x)', async () => {
    const a = adapter()
    await a.getAccount('fp_nobody')
    const logins = panel.counts.login
    panel.expireSessions()
    const o = order()
    await a.createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })
    expect(panel.counts.login).toBe(logins + 1)
    expect(panel.client(o.username)).toBeDefined()
  })

  it('logs in again on the older 401 answer and reads unknown emails as missing (2.8.0)', async () => {
    const old = await otherPanel({ version: '2.8.0' })
    const a = adapter({}, state.store, old)
    expect(await a.getAccount('fp_nobody')).toBeNull()
    old.expireSessions()
    const o = order()
    await a.createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })
    expect(old.counts.login).toBe(2)
  })

  it('sends a TOTP code when the panel has two-factor login', async () => {
    const secret = new Secret({ size: 20 }).base32
    const twoFactor = await otherPanel({ twoFactorSecret: secret })
    expect(new TOTP({ secret: Secret.fromBase32(secret) }).generate()).toMatch(/^\d{6}$/)
    expect(await adapter({ totpSecret: secret }, state.store, twoFactor).getAccount('fp_nobody')).toBeNull()
    await expectPanelError(adapter({}, new MemoryPanelStore(), twoFactor).getAccount('fp_nobody'), 'PANEL_AUTH_FAILED')
  })

  it('reports bad credentials as non-retryable, HTTP 200 notwithstanding, without the password', async () => {
    const error = await expectPanelError(adapter({ password: 'not-the-password-99' }, new MemoryPanelStore()).getAccount('fp_x'), 'PANEL_AUTH_FAILED')
    expect(error.kind).toBe('non_retryable')
    expect(error.message).not.toContain('not-the-password-99')
  })

  it('refuses 3X-UI 3.x as an unsupported panel version', async () => {
    const v3 = await otherPanel({ version: '3.6.0' })
    const error = await expectPanelError(adapter({}, state.store, v3).createAccount({ ...order(), expiresAt: null, dataLimitBytes: 0 }), 'UNSUPPORTED_PANEL_VERSION', /unsupported panel version/)
    expect(error.kind).toBe('non_retryable')
    expect(v3.counts.login).toBe(0)
  })

  it('reports a wrong web base path as a misconfiguration', async () => {
    const a = adapter({ baseUrl: panel.url.replace('x9Secret', 'wrong') }, new MemoryPanelStore())
    await expectPanelError(a.getAccount('fp_x'), 'PANEL_MISCONFIGURED', /web base path/)
  })
})

describe('3X-UI adapter: one writer per panel', () => {
  it('the fake loses concurrent writes like the panel does when nothing serialises them', async () => {
    const racy = await otherPanel({ writeLatencyMs: 20 })
    const orders = Array.from({ length: 6 }, () => order())
    await Promise.all(orders.map((o) => adapter({}, new MemoryPanelStore(), racy).createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })))
    expect(racy.maxConcurrentWrites).toBeGreaterThan(1)
    expect(racy.clients(1).length).toBeLessThan(orders.length)
  })

  it('serialises writes across processes through the Redis lock, so nothing is lost', async () => {
    const careful = await otherPanel({ writeLatencyMs: 20 })
    const orders = Array.from({ length: 10 }, () => order())
    const workers = [adapter({}, state.store, careful), adapter({}, state.newStore(), careful), adapter({}, state.newStore(), careful)]
    await Promise.all(orders.map((o, i) => workers[i % workers.length]!.createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })))
    expect(careful.maxConcurrentWrites).toBe(1)
    expect(careful.clients(1).map((c) => c.email).sort()).toEqual(orders.map((o) => o.username).sort())
    await Promise.all(orders.map((o, i) => workers[i % workers.length]!.disable(o.username)))
    expect(careful.clients(1).every((c) => c.enable === false)).toBe(true)
  })
})

describe('3X-UI adapter: failures', () => {
  it('maps the panic 500 to retryable PANEL_5XX', async () => {
    const a = adapter()
    await a.getAccount('fp_nobody')
    panel.failNext(1, 500, 'addClient')
    const error = await expectPanelError(a.createAccount({ ...order(), expiresAt: null, dataLimitBytes: 0 }), 'PANEL_5XX', /HTTP 500/)
    expect(error.retryable).toBe(true)
  })

  it('times out on a hanging panel', async () => {
    const a = adapter({ timeoutMs: 300 })
    await a.getAccount('fp_nobody')
    panel.hang = true
    await expectPanelError(a.getAccount('fp_nobody'), 'PANEL_TIMEOUT')
  })

  it('reports a stopped panel as unreachable and recovers', async () => {
    const a = adapter()
    await panel.down()
    const error = await expectPanelError(a.getAccount('fp_nobody'), 'PANEL_UNREACHABLE', /ECONNREFUSED/)
    expect(error.message).toContain(panel.url)
    await panel.up()
    expect(await a.getAccount('fp_nobody')).toBeNull()
  })

  it('reports a missing inbound as INBOUND_MISSING', async () => {
    await expectPanelError(adapter({ settings: { inboundId: 99 } }).createAccount({ ...order(), expiresAt: null, dataLimitBytes: 0 }), 'INBOUND_MISSING', /inbound 99/)
  })

  it('rejects settings without an inbound id', () => {
    expect(() => adapter({ settings: {} })).toThrow(/inboundId/)
  })
})

describe('3X-UI adapter: health and proxy', () => {
  it('reports version, core version, latency and load', async () => {
    const health = await adapter().health()
    expect(health).toMatchObject({ reachable: true, ok: true, version: '2.x', coreVersion: '25.10.15' })
    expect(health.load?.memTotalBytes).toBe(2048 * 1024 ** 2)
  })

  it('reports unreachable and unsupported panels without throwing', async () => {
    await panel.down()
    expect(await adapter().health()).toMatchObject({ reachable: false, ok: false, error: { code: 'PANEL_UNREACHABLE' } })
    await panel.up()
    const v3 = await otherPanel({ version: '3.6.0' })
    expect(await adapter({}, state.store, v3).health()).toMatchObject({ reachable: true, ok: false, error: { code: 'UNSUPPORTED_PANEL_VERSION' } })
  })

  it('talks through an HTTP proxy when one is configured', async () => {
    const proxy = await startFakeProxy()
    try {
      const o = order()
      await adapter({ proxyUrl: proxy.url }, new MemoryPanelStore()).createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })
      expect(proxy.tunnels).toBeGreaterThan(0)
      expect(panel.client(o.username)).toBeDefined()
    } finally {
      await proxy.close()
    }
  })
})
