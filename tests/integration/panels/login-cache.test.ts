import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { XuiAdapter } from '#activities/panels/3x-ui.ts'
import { MarzbanAdapter } from '#activities/panels/marzban.ts'
import type { PanelAdapter } from '#activities/panels/types.ts'
import { startFakeXui, type FakeXui } from '#tests/fakes/3x-ui.ts'
import { startFakeMarzban, type FakeMarzban } from '#tests/fakes/marzban.ts'
import { createTestStore, TEST_APP_SECRET } from './helpers.ts'

/**
 * The panel logins shared through Redis belong to one set of credentials: a panel saved with a wrong
 * password must fail its own login, not reuse the login another process made with the right one.
 */

const PASSWORD = 'login-cache-right-password-7'
const WRONG = 'login-cache-wrong-password-7'

let marzban: FakeMarzban
let xui: FakeXui
const state = createTestStore('login-cache')
const adapters: PanelAdapter[] = []

function marzbanAdapter(password: string): MarzbanAdapter {
  const a = new MarzbanAdapter({ type: 'marzban', baseUrl: marzban.url, username: 'admin', password, settings: {}, timeoutMs: 2_000 }, { store: state.newStore(), appSecret: TEST_APP_SECRET })
  adapters.push(a)
  return a
}

function xuiAdapter(password: string): XuiAdapter {
  const a = new XuiAdapter(
    { type: '3x-ui', baseUrl: xui.url, username: 'admin', password, settings: { inboundId: 1 }, timeoutMs: 2_000 },
    { store: state.newStore(), appSecret: TEST_APP_SECRET, now: () => new Date(xui.now()) },
  )
  adapters.push(a)
  return a
}

async function loginKeys(): Promise<string[]> {
  return (await state.redis.keys(`${state.prefix}*`)).filter((k) => k.endsWith(':token') || k.endsWith(':session')).sort()
}

beforeAll(async () => {
  marzban = await startFakeMarzban({ admins: [{ username: 'admin', password: PASSWORD, sudo: true }] })
  xui = await startFakeXui({ password: PASSWORD })
})

afterEach(async () => {
  await Promise.all(adapters.splice(0).map((a) => a.close()))
})

afterAll(async () => {
  await Promise.all([marzban.close(), xui.close()])
  await state.cleanup()
})

describe.each([
  ['Marzban', (password: string) => marzbanAdapter(password)],
  ['3X-UI', (password: string) => xuiAdapter(password)],
])('%s adapter: the shared login', (_name, adapterWith) => {
  it('is not reused by a connection with another password on the same URL and username', async () => {
    const right = await adapterWith(PASSWORD).health()
    expect(right.ok).toBe(true)
    const keysAfterRight = await loginKeys()

    const wrong = await adapterWith(WRONG).health()
    expect(wrong).toMatchObject({ reachable: true, ok: false, error: { code: 'PANEL_AUTH_FAILED' } })
    // The failed login neither replaced nor removed the good one: the right password still works from the cache.
    expect(await loginKeys()).toEqual(keysAfterRight)
    expect((await adapterWith(PASSWORD).health()).ok).toBe(true)
  })

  it('is keyed without the password or username in clear', async () => {
    await adapterWith(PASSWORD).health()
    const keys = await loginKeys()
    expect(keys.length).toBeGreaterThan(0)
    for (const key of keys) {
      expect(key).not.toContain(PASSWORD)
      expect(key).not.toContain('admin')
    }
  })
})
