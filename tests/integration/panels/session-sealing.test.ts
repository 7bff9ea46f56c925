import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { XuiAdapter } from '#activities/panels/3x-ui.ts'
import { MarzbanAdapter } from '#activities/panels/marzban.ts'
import { PANEL_SESSION_PURPOSE, type PanelStateStore } from '#activities/panels/store.ts'
import type { PanelAdapter } from '#activities/panels/types.ts'
import { unseal } from '#db/crypto.ts'
import { startFakeXui, type FakeXui } from '#tests/fakes/3x-ui.ts'
import { startFakeMarzban, type FakeMarzban } from '#tests/fakes/marzban.ts'
import { createTestStore, TEST_APP_SECRET } from './helpers.ts'

/**
 * The panel logins the adapters share through Redis (Marzban bearer tokens, 3X-UI session cookies)
 * are stored sealed under APP_SECRET; a value that cannot be unsealed means "no login", never an error.
 */

const PASSWORD = 'sealing-test-password-41'
const OTHER_SECRET = 'another-app-secret-another-app-secret-99'

let marzban: FakeMarzban
let xui: FakeXui
const state = createTestStore('sealing')
const adapters: PanelAdapter[] = []

function marzbanAdapter(store: PanelStateStore = state.newStore(), appSecret = TEST_APP_SECRET): MarzbanAdapter {
  const a = new MarzbanAdapter({ type: 'marzban', baseUrl: marzban.url, username: 'admin', password: PASSWORD, settings: {}, timeoutMs: 2_000 }, { store, appSecret })
  adapters.push(a)
  return a
}

function xuiAdapter(store: PanelStateStore = state.newStore(), appSecret = TEST_APP_SECRET): XuiAdapter {
  const a = new XuiAdapter(
    { type: '3x-ui', baseUrl: xui.url, username: 'admin', password: PASSWORD, settings: { inboundId: 1 }, timeoutMs: 2_000 },
    { store, appSecret, now: () => new Date(xui.now()) },
  )
  adapters.push(a)
  return a
}

/** The one key of `kind` (`marzban` / `xui`) under this file's prefix, with its raw Redis value. */
async function cached(kind: string): Promise<{ key: string; raw: string }> {
  const keys = (await state.redis.keys(`${state.prefix}${kind}:*`)).filter((k) => k.endsWith(':token') || k.endsWith(':session'))
  expect(keys).toHaveLength(1)
  const raw = await state.redis.get(keys[0]!)
  expect(raw).not.toBeNull()
  return { key: keys[0]!, raw: raw! }
}

/** The same sealed value with one character of its ciphertext changed. */
function tampered(raw: string): string {
  const parts = raw.split(':')
  const body = parts[3]!
  parts[3] = (body[0] === 'A' ? 'B' : 'A') + body.slice(1)
  return parts.join(':')
}

beforeAll(async () => {
  marzban = await startFakeMarzban({ admins: [{ username: 'admin', password: PASSWORD, sudo: true }] })
  xui = await startFakeXui({ basePath: '/sealed/', password: PASSWORD })
})

afterEach(async () => {
  await Promise.all(adapters.splice(0).map((a) => a.close()))
})

afterAll(async () => {
  await Promise.all([marzban.close(), xui.close()])
  await state.cleanup()
})

describe('Marzban adapter: the cached admin token', () => {
  it('is sealed in Redis: the raw value does not contain the token the panel accepts', async () => {
    await marzbanAdapter().getAccount('fp_nobody')
    const { raw } = await cached('marzban')
    const token = unseal(TEST_APP_SECRET, PANEL_SESSION_PURPOSE, raw)
    const res = await request(`${marzban.url}/api/admin`, { headers: { authorization: `Bearer ${token}` } })
    await res.body.dump()
    expect(res.statusCode).toBe(200)
    expect(raw).toMatch(/^v1:/)
    expect(raw).not.toContain(token)
    for (const part of token.split('.')) expect(raw).not.toContain(part)
  })

  it('is shared by another process with the same APP_SECRET, without a new login', async () => {
    await marzbanAdapter().getAccount('fp_nobody')
    const logins = marzban.counts.login
    await marzbanAdapter().getAccount('fp_nobody')
    expect(marzban.counts.login).toBe(logins)
  })

  it('logs in afresh when the cached value was tampered with, and replaces it', async () => {
    await marzbanAdapter().getAccount('fp_nobody')
    const { key, raw } = await cached('marzban')
    await state.redis.set(key, tampered(raw), 'PX', 60_000)
    const logins = marzban.counts.login
    await marzbanAdapter().getAccount('fp_nobody')
    expect(marzban.counts.login).toBe(logins + 1)
    const after = await cached('marzban')
    expect(after.raw).not.toBe(tampered(raw))
    expect(() => unseal(TEST_APP_SECRET, PANEL_SESSION_PURPOSE, after.raw)).not.toThrow()
  })

  it('logs in afresh when the cached value was sealed under another APP_SECRET', async () => {
    await marzbanAdapter().getAccount('fp_nobody')
    const logins = marzban.counts.login
    await marzbanAdapter(state.newStore(), OTHER_SECRET).getAccount('fp_nobody')
    expect(marzban.counts.login).toBe(logins + 1)
    // The cache id is keyed with APP_SECRET too, so each secret keeps its own login.
    const keys = (await state.redis.keys(`${state.prefix}marzban:*`)).filter((k) => k.endsWith(':token'))
    expect(keys).toHaveLength(2)
    const opens = async (key: string, secret: string) => {
      try {
        unseal(secret, PANEL_SESSION_PURPOSE, (await state.redis.get(key))!)
        return true
      } catch {
        return false
      }
    }
    for (const secret of [TEST_APP_SECRET, OTHER_SECRET]) expect(await Promise.all(keys.map((k) => opens(k, secret)))).toContain(true)
  })
})

describe('3X-UI adapter: the cached session cookie', () => {
  it('is sealed in Redis: the raw value does not contain the cookie the panel accepts', async () => {
    await xuiAdapter().getAccount('fp_nobody')
    const { raw } = await cached('xui')
    const cookie = unseal(TEST_APP_SECRET, PANEL_SESSION_PURPOSE, raw)
    expect(cookie).toMatch(/^3x-ui=/)
    const res = await request(`${xui.url}panel/api/inbounds/list`, { headers: { cookie, 'x-requested-with': 'XMLHttpRequest' } })
    const body = (await res.body.json()) as { success: boolean }
    expect(res.statusCode).toBe(200)
    expect(body.success).toBe(true)
    expect(raw).toMatch(/^v1:/)
    expect(raw).not.toContain(cookie)
    expect(raw).not.toContain(cookie.slice('3x-ui='.length))
    expect(raw).not.toContain('3x-ui')
  })

  it('logs in afresh when the cached value was tampered with, and replaces it', async () => {
    await xuiAdapter().getAccount('fp_nobody')
    const { key, raw } = await cached('xui')
    await state.redis.set(key, tampered(raw), 'PX', 60_000)
    const logins = xui.counts.login
    await xuiAdapter().getAccount('fp_nobody')
    expect(xui.counts.login).toBe(logins + 1)
    const after = await cached('xui')
    expect(after.raw).not.toBe(tampered(raw))
    expect(() => unseal(TEST_APP_SECRET, PANEL_SESSION_PURPOSE, after.raw)).not.toThrow()
  })

  it('logs in afresh when the cached value is not sealed at all', async () => {
    await xuiAdapter().getAccount('fp_nobody')
    const { key } = await cached('xui')
    await state.redis.set(key, '3x-ui=left-in-clear-text', 'PX', 60_000)
    const logins = xui.counts.login
    await xuiAdapter().getAccount('fp_nobody')
    expect(xui.counts.login).toBe(logins + 1)
  })
})
