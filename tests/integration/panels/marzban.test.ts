import { ApplicationFailure } from '@temporalio/common'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MarzbanAdapter } from '#activities/panels/marzban.ts'
import { PANEL_ERROR_KINDS, toApplicationFailure } from '#activities/panels/errors.ts'
import type { PanelConnection } from '#activities/panels/settings.ts'
import { ownerMarker } from '#activities/panels/username.ts'
import { startFakeProxy } from '#tests/fakes/http.ts'
import { startFakeMarzban, type FakeMarzban } from '#tests/fakes/marzban.ts'
import { createTestStore, DAY_MS, expectPanelError, GB, TEST_APP_SECRET } from './helpers.ts'

const SECRET_PASSWORD = 'hunter2-very-secret'

let panel: FakeMarzban
const state = createTestStore('marzban')
const adapters: MarzbanAdapter[] = []

function adapter(overrides: Partial<PanelConnection> = {}, store = state.store): MarzbanAdapter {
  const a = new MarzbanAdapter(
    { type: 'marzban', baseUrl: panel.url, username: 'admin', password: SECRET_PASSWORD, settings: {}, timeoutMs: 2_000, ...overrides },
    { store, appSecret: TEST_APP_SECRET },
  )
  adapters.push(a)
  return a
}

beforeAll(async () => {
  panel = await startFakeMarzban({ admins: [{ username: 'admin', password: SECRET_PASSWORD, sudo: true }, { username: 'reseller', password: 'pw-reseller' }] })
})

afterEach(async () => {
  panel.latencyMs = 0
  panel.hang = false
  await panel.up()
  await Promise.all(adapters.splice(0).map((a) => a.close()))
})

afterAll(async () => {
  await panel.close()
  await state.cleanup()
})

let nextOrder = 1000
function order(): { username: string; owner: string } {
  nextOrder++
  return { username: `fp_${nextOrder}`, owner: ownerMarker(nextOrder) }
}

describe('Marzban adapter: accounts', () => {
  it('creates an account and normalises units (seconds → Date, null → 0, relative → absolute URL)', async () => {
    const a = adapter()
    const o = order()
    const expiresAt = new Date(Date.now() + 30 * DAY_MS)
    const account = await a.createAccount({ ...o, expiresAt, dataLimitBytes: 30 * GB, note: 'gift' })
    expect(account.username).toBe(o.username)
    expect(account.status).toBe('active')
    expect(account.usedBytes).toBe(0)
    expect(account.dataLimitBytes).toBe(30 * GB)
    expect(account.expiresAt?.getTime()).toBe(Math.floor(expiresAt.getTime() / 1000) * 1000)
    expect(account.subscriptionUrl).toMatch(new RegExp(`^${panel.url}/sub/[A-Za-z0-9_-]{15,}$`))
    expect(account.links.length).toBeGreaterThan(0)
    expect(account.owner).toBe(o.owner)

    const stored = panel.user(o.username)!
    expect(stored.expire).toBe(Math.floor(expiresAt.getTime() / 1000))
    expect(stored.data_limit).toBe(30 * GB)
    expect(stored.note).toBe(`${o.owner} gift`)
    expect(Object.keys(stored.proxies as object).sort()).toEqual(['vless', 'vmess'])
  })

  it('sends 0 for unlimited and reads back null as unlimited / never', async () => {
    const o = order()
    const account = await adapter().createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })
    expect(account.expiresAt).toBeNull()
    expect(account.dataLimitBytes).toBe(0)
    expect(panel.user(o.username)).toMatchObject({ expire: null, data_limit: null })
  })

  it('puts users only on the configured inbounds and proxy settings', async () => {
    const o = order()
    await adapter({ settings: { inbounds: ['VLESS TCP REALITY'], proxies: { vless: { flow: 'xtls-rprx-vision' } } } }).createAccount({
      ...o,
      expiresAt: null,
      dataLimitBytes: GB,
    })
    const stored = panel.user(o.username)!
    expect(stored.inbounds).toEqual({ vless: ['VLESS TCP REALITY'] })
    expect((stored.proxies as Record<string, { flow: string }>).vless!.flow).toBe('xtls-rprx-vision')
  })

  it('uses the configured prefix for relative subscription URLs', async () => {
    const o = order()
    const account = await adapter({ settings: { subscriptionBaseUrl: 'https://sub.example.com/' } }).createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })
    expect(account.subscriptionUrl).toMatch(/^https:\/\/sub\.example\.com\/sub\//)
  })

  it('counts a repeated create of our own user as success without a second user', async () => {
    const a = adapter()
    const o = order()
    const input = { ...o, expiresAt: new Date(Date.now() + DAY_MS), dataLimitBytes: GB }
    const first = await a.createAccount(input)
    const creates = panel.counts.create
    const second = await a.createAccount(input)
    expect(panel.counts.create).toBe(creates + 1)
    expect(second.username).toBe(first.username)
    expect(second.owner).toBe(o.owner)
    expect(panel.users().filter((u) => String(u.username).toLowerCase() === o.username)).toHaveLength(1)
  })

  it('refuses a username that exists for someone else (any case), without touching it', async () => {
    const o = order()
    panel.seedUser({ username: o.username.toUpperCase(), note: 'sold by hand' })
    const error = await expectPanelError(adapter().createAccount({ ...o, expiresAt: null, dataLimitBytes: GB }), 'USERNAME_TAKEN_BY_OTHER', /a user flowpanel did not create/)
    expect(error.kind).toBe('non_retryable')
    expect(panel.user(o.username)!.note).toBe('sold by hand')

    const other = order()
    panel.seedUser({ username: other.username, note: ownerMarker(1) })
    await expectPanelError(adapter().createAccount({ ...other, expiresAt: null, dataLimitBytes: GB }), 'USERNAME_TAKEN_BY_OTHER', /flowpanel:order:1,/)
  })

  it('refuses a username held by another panel admin (403 on lookup)', async () => {
    const o = order()
    panel.seedUser({ username: o.username, admin: 'admin', note: o.owner })
    const reseller = adapter({ username: 'reseller', password: 'pw-reseller' })
    await expectPanelError(reseller.createAccount({ ...o, expiresAt: null, dataLimitBytes: GB }), 'USERNAME_TAKEN_BY_OTHER', /another panel admin/)
  })

  it('reads accounts, null for a missing one, and reports limited / expired at once', async () => {
    const a = adapter()
    expect(await a.getAccount('fp_nobody')).toBeNull()
    const o = order()
    await a.createAccount({ ...o, expiresAt: new Date(Date.now() + DAY_MS), dataLimitBytes: GB })
    panel.setUsage(o.username, 2 * GB)
    expect(await a.getAccount(o.username)).toMatchObject({ status: 'limited', usedBytes: 2 * GB })
    panel.tick()
    expect(panel.user(o.username)!.status).toBe('limited')

    const e = order()
    await a.createAccount({ ...e, expiresAt: new Date(Date.now() + 1_000), dataLimitBytes: 0 })
    panel.advance(5_000)
    panel.tick()
    expect((await a.getAccount(e.username))!.status).toBe('expired')
    panel.advance(-5_000)
  })

  it('extends by days from the later of now and the current expiry, and adds bytes', async () => {
    const a = adapter()
    const o = order()
    const expiry = new Date(Date.now() + 10 * DAY_MS)
    await a.createAccount({ ...o, expiresAt: expiry, dataLimitBytes: 10 * GB })
    const extended = await a.extend({ username: o.username, addDays: 30, addBytes: 5 * GB })
    expect(extended.expiresAt!.getTime()).toBe(Math.floor(expiry.getTime() / 1000) * 1000 + 30 * DAY_MS)
    expect(extended.dataLimitBytes).toBe(15 * GB)

    const past = order()
    await a.createAccount({ ...past, expiresAt: new Date(Date.now() + 1_000), dataLimitBytes: GB })
    panel.setUsage(past.username, 2 * GB)
    panel.advance(10_000)
    panel.tick()
    expect(panel.user(past.username)!.status).toBe('limited')
    const revived = await a.extend({ username: past.username, newExpiresAt: new Date(Date.now() + 40 * DAY_MS), newDataLimitBytes: 50 * GB })
    panel.advance(-10_000)
    expect(revived.status).toBe('active')
    expect(revived.dataLimitBytes).toBe(50 * GB)
    expect(panel.user(past.username)!.status).toBe('active')

    const fromNow = order()
    await a.createAccount({ ...fromNow, expiresAt: new Date(Date.now() - DAY_MS), dataLimitBytes: 0 })
    const before = Date.now()
    const renewed = await a.extend({ username: fromNow.username, addDays: 1 })
    expect(renewed.expiresAt!.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + DAY_MS - 1000)
    expect(renewed.status).toBe('active')
  })

  it('refuses to extend a missing user or with contradictory input', async () => {
    const a = adapter()
    await expectPanelError(a.extend({ username: 'fp_missing', addDays: 1 }), 'NOT_FOUND')
    await expectPanelError(a.extend({ username: 'fp_missing', addDays: 1, newExpiresAt: new Date() }), 'INVALID_INPUT', /either addDays or newExpiresAt/)
    await expectPanelError(a.extend({ username: 'fp_missing' }), 'INVALID_INPUT')
    await expectPanelError(a.extend({ username: 'fp_missing', addBytes: -1 }), 'INVALID_INPUT')
  })

  it('disables and enables', async () => {
    const a = adapter()
    const o = order()
    await a.createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })
    expect((await a.disable(o.username)).status).toBe('disabled')
    expect(panel.user(o.username)!.status).toBe('disabled')
    expect((await a.disable(o.username)).status).toBe('disabled')
    expect((await a.enable(o.username)).status).toBe('active')
    await expectPanelError(a.disable('fp_missing'), 'NOT_FOUND')
  })

  it('resets usage and keeps a disabled user disabled (the panel would re-activate it)', async () => {
    const a = adapter()
    const o = order()
    await a.createAccount({ ...o, expiresAt: null, dataLimitBytes: GB })
    panel.setUsage(o.username, GB / 2)
    await a.disable(o.username)
    const reset = await a.resetUsage(o.username)
    expect(reset.usedBytes).toBe(0)
    expect(reset.status).toBe('disabled')
    expect(panel.user(o.username)).toMatchObject({ used_traffic: 0, status: 'disabled' })
  })

  it('deletes idempotently and never deletes a user with another owner', async () => {
    const a = adapter()
    const o = order()
    await a.createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })
    await a.delete(o.username, { owner: o.owner })
    expect(panel.user(o.username)).toBeUndefined()
    await a.delete(o.username, { owner: o.owner })
    await a.delete(o.username)

    const foreign = order()
    panel.seedUser({ username: foreign.username, note: 'not ours' })
    await expectPanelError(a.delete(foreign.username, { owner: foreign.owner }), 'USERNAME_TAKEN_BY_OTHER')
    expect(panel.user(foreign.username)).toBeDefined()
  })

  it('lists every user across pages', async () => {
    for (let i = 0; i < 520; i++) panel.seedUser({ username: `bulk_${i}`, note: i % 2 ? ownerMarker(90_000 + i) : null })
    const all = await adapter().listAccounts()
    expect(all.length).toBe(panel.users().length)
    expect(all.find((u) => u.username === 'bulk_3')!.owner).toBe(ownerMarker(90_003))
    expect(all.find((u) => u.username === 'bulk_4')!.owner).toBeNull()
    const pages = panel.requests.filter((r) => r.path === '/api/users').length
    expect(pages).toBeGreaterThanOrEqual(2)
  })
})

describe('Marzban adapter: login and tokens', () => {
  it('logs in once and shares the token with other processes through the store', async () => {
    await state.redis.del(...(await state.redis.keys(`${state.prefix}*`)).concat(`${state.prefix}none`))
    const logins = panel.counts.login
    const a = adapter()
    await Promise.all(Array.from({ length: 8 }, () => a.getAccount('fp_nobody')))
    const b = adapter({}, state.newStore())
    await b.getAccount('fp_nobody')
    expect(panel.counts.login).toBe(logins + 1)
  })

  it('logs in again after the panel stops accepting the token', async () => {
    const a = adapter()
    await a.getAccount('fp_nobody')
    const logins = panel.counts.login
    panel.expireTokens()
    const o = order()
    await a.createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })
    expect(panel.counts.login).toBe(logins + 1)
    // Another process still holding the stale token in memory picks up the fresh one without a login.
    const b = adapter({}, state.newStore())
    await b.getAccount(o.username)
    expect(panel.counts.login).toBe(logins + 1)
  })

  it('reports bad credentials as non-retryable without echoing the password', async () => {
    const a = adapter({ username: 'nobody', password: 'wrong-password-123' })
    const error = await expectPanelError(a.getAccount('fp_x'), 'PANEL_AUTH_FAILED', /rejected the admin username or password/)
    expect(error.kind).toBe('non_retryable')
    expect(error.message).not.toContain('wrong-password-123')
    expect(JSON.stringify(toApplicationFailure(error))).not.toContain('wrong-password-123')
  })
})

describe('Marzban adapter: failures', () => {
  it('maps 5xx to retryable PANEL_5XX', async () => {
    const a = adapter()
    await a.getAccount('fp_nobody')
    panel.failNext(1, 500)
    const error = await expectPanelError(a.getAccount('fp_nobody'), 'PANEL_5XX', /HTTP 500/)
    expect(error.retryable).toBe(true)
    panel.failNext(1, 502)
    await expectPanelError(a.createAccount({ ...order(), expiresAt: null, dataLimitBytes: 0 }), 'PANEL_5XX', /HTTP 502/)
  })

  it('times out on a hanging panel', async () => {
    const a = adapter({ timeoutMs: 300 })
    await a.getAccount('fp_nobody')
    panel.hang = true
    const error = await expectPanelError(a.getAccount('fp_nobody'), 'PANEL_TIMEOUT', /within 300 ms/)
    expect(error.retryable).toBe(true)
  })

  it('reports a stopped panel as unreachable, and recovers when it is back', async () => {
    const a = adapter()
    await panel.down()
    const error = await expectPanelError(a.getAccount('fp_nobody'), 'PANEL_UNREACHABLE', /ECONNREFUSED/)
    expect(error.message).toContain(panel.url)
    await panel.up()
    expect(await a.getAccount('fp_nobody')).toBeNull()
  })

  it('reports a missing inbound or disabled protocol as INBOUND_MISSING', async () => {
    await expectPanelError(
      adapter({ settings: { inbounds: ['Nope'] } }).createAccount({ ...order(), expiresAt: null, dataLimitBytes: 0 }),
      'INBOUND_MISSING',
      /inbound "Nope" does not exist/,
    )
    await expectPanelError(
      adapter({ settings: { proxies: { trojan: {} } } }).createAccount({ ...order(), expiresAt: null, dataLimitBytes: 0 }),
      'INBOUND_MISSING',
      /no trojan inbound/,
    )
  })

  it('reports a 422 from the panel as non-retryable PANEL_VALIDATION with the field', async () => {
    const error = await expectPanelError(
      adapter({ settings: { proxies: { vless: { flow: 'bogus' } } } }).createAccount({ ...order(), expiresAt: null, dataLimitBytes: 0 }),
      'PANEL_VALIDATION',
      /flow: Input should be/,
    )
    expect(error.status).toBe(422)
  })

  it('refuses invalid usernames and settings before calling the panel', async () => {
    const before = panel.requests.length
    await expectPanelError(adapter().createAccount({ username: 'ab.cd', owner: ownerMarker(1), expiresAt: null, dataLimitBytes: 0 }), 'INVALID_INPUT')
    await expectPanelError(adapter().createAccount({ username: 'fp_1', owner: 'me', expiresAt: null, dataLimitBytes: 0 }), 'INVALID_INPUT', /ownership marker/)
    expect(() => adapter({ settings: { inboundId: 1 } })).toThrow(/settings are invalid/)
    expect(panel.requests.length).toBe(before)
  })
})

describe('Marzban adapter: health and proxy', () => {
  it('reports version, latency and load', async () => {
    const health = await adapter().health()
    expect(health).toMatchObject({ reachable: true, ok: true, version: '0.8.4' })
    expect(health.latencyMs).toBeGreaterThanOrEqual(0)
    expect(health.load?.usersTotal).toBe(panel.users().length)
  })

  it('reports an unreachable panel without throwing', async () => {
    await panel.down()
    const health = await adapter().health()
    expect(health).toMatchObject({ reachable: false, ok: false, error: { code: 'PANEL_UNREACHABLE' } })
  })

  it('reports wrong credentials as reachable but not ok', async () => {
    const health = await adapter({ username: 'x', password: 'y' }).health()
    expect(health).toMatchObject({ reachable: true, ok: false, error: { code: 'PANEL_AUTH_FAILED' } })
  })

  it('talks through an HTTP proxy when one is configured', async () => {
    const proxy = await startFakeProxy()
    try {
      const o = order()
      const account = await adapter({ proxyUrl: proxy.url }).createAccount({ ...o, expiresAt: null, dataLimitBytes: 0 })
      expect(account.username).toBe(o.username)
      expect(proxy.tunnels).toBeGreaterThan(0)
    } finally {
      await proxy.close()
    }
    await expectPanelError(adapter({ proxyUrl: proxy.url }).getAccount('fp_nobody'), 'PANEL_UNREACHABLE')
  })
})

describe('errors as Temporal failures', () => {
  it('carries the code as type and marks non-retryable kinds', async () => {
    const error = await expectPanelError(adapter({ username: 'x', password: 'y' }).getAccount('fp_x'), 'PANEL_AUTH_FAILED')
    const failure = toApplicationFailure(error) as ApplicationFailure
    expect(failure).toBeInstanceOf(ApplicationFailure)
    expect(failure.type).toBe('PANEL_AUTH_FAILED')
    expect(failure.nonRetryable).toBe(true)
    await panel.down()
    const down = await expectPanelError(adapter().getAccount('fp_x'), 'PANEL_UNREACHABLE')
    expect((toApplicationFailure(down) as ApplicationFailure).nonRetryable).toBe(false)
    expect(PANEL_ERROR_KINDS.USERNAME_TAKEN_BY_OTHER).toBe('non_retryable')
    const plain = new Error('x')
    expect(toApplicationFailure(plain)).toBe(plain)
  })
})
