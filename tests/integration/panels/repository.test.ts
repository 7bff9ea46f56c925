import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PanelDirectory } from '#activities/deps.ts'
import { MemoryPanelStore } from '#activities/panels/store.ts'
import { ownerMarker, usernameForOrder } from '#activities/panels/username.ts'
import type { PanelHealth } from '#activities/panels/types.ts'
import type { Db } from '#db/knex.ts'
import {
  addPanel,
  createPanelDirectory,
  ensureLocation,
  getPanelById,
  getPanelByName,
  listPanels,
  loadAdapterForPanel,
  reconcilePanel,
  selectPanel,
  updateHealth,
  type PanelRow,
} from '#db/panels.ts'
import { startFakeMarzban, type FakeMarzban } from '#tests/fakes/marzban.ts'
import { startFakeXui, type FakeXui } from '#tests/fakes/3x-ui.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { expectPanelError, GB } from './helpers.ts'

const APP_SECRET = 'repository-test-secret-0123456789abcdef'
const HEALTHY: PanelHealth = { reachable: true, ok: true, version: '0.8.4', coreVersion: null, latencyMs: 5, load: null }
const DOWN: PanelHealth = { reachable: false, ok: false, version: null, coreVersion: null, latencyMs: null, load: null, error: { code: 'PANEL_UNREACHABLE', message: 'unreachable' } }

let db: Db
let drop: () => Promise<void>
let marzban: FakeMarzban
let xui: FakeXui
let userId: number
let planId: number

beforeAll(async () => {
  ;({ db, drop } = await createTestDatabase('panels_repo'))
  marzban = await startFakeMarzban({ admins: [{ username: 'admin', password: 'marz-pass', sudo: true }] })
  xui = await startFakeXui({ password: 'xui-pass' })
  const [user] = await db('users').insert({ username: 'buyer', role: 'customer' }).returning('id')
  userId = user.id
  const [plan] = await db('plans').insert({ nameFa: 'ماهانه', nameEn: 'Monthly', days: 30, dataLimitBytes: String(30 * GB), price: 100, agentPrice: 80 }).returning('id')
  planId = plan.id
})

afterAll(async () => {
  await Promise.all([marzban.close(), xui.close()])
  await drop()
})

/** An order and its account row, as the order workflow would leave them. */
async function account(panel: PanelRow, status = 'active'): Promise<{ orderId: number; username: string }> {
  const [orderRow] = await db('orders').insert({ userId, planId, price: 100 }).returning('id')
  const username = usernameForOrder(orderRow.id)
  await db('accounts').insert({ userId, orderId: orderRow.id, planId, panelId: panel.id, panelUsername: username, status })
  return { orderId: orderRow.id, username }
}

describe('panel repository', () => {
  it('stores credentials sealed and builds a working adapter from the row', async () => {
    const location = await ensureLocation(db, 'de')
    expect(location.created).toBe(true)
    expect(await ensureLocation(db, 'de')).toEqual({ id: location.id, created: false })
    expect(await db('locations').where({ id: location.id }).first()).toMatchObject({ code: 'de', nameFa: 'de', nameEn: 'de' })

    const panel = await addPanel(db, APP_SECRET, {
      name: 'de-1',
      type: 'marzban',
      baseUrl: marzban.url,
      username: 'admin',
      password: 'marz-pass',
      locationId: location.id,
      capacity: 2,
      settings: { inbounds: ['VLESS TCP REALITY'] },
    })
    expect(panel.credentialsEncrypted).not.toContain('marz-pass')
    expect(panel.credentialsEncrypted).toMatch(/^v1:/)
    expect((await getPanelByName(db, 'de-1'))!.id).toBe(panel.id)
    expect((await getPanelById(db, panel.id))!.settings).toEqual({ inbounds: ['VLESS TCP REALITY'] })

    const adapter = loadAdapterForPanel(panel, { appSecret: APP_SECRET, store: new MemoryPanelStore() })
    try {
      const created = await adapter.createAccount({ username: 'fp_900', owner: ownerMarker(900), expiresAt: null, dataLimitBytes: GB })
      expect(created.username).toBe('fp_900')
      expect(marzban.user('fp_900')!.inbounds).toEqual({ vless: ['VLESS TCP REALITY'] })
    } finally {
      await adapter.close()
    }
    expect(() => loadAdapterForPanel(panel, { appSecret: 'another-secret-another-secret-0000', store: new MemoryPanelStore() })).toThrow(/wrong APP_SECRET/)
  })

  it('refuses bad input with specific messages', async () => {
    const { id } = await ensureLocation(db, 'de')
    const base = { type: 'marzban' as const, baseUrl: marzban.url, username: 'a', password: 'b', locationId: id }
    await expectPanelError(addPanel(db, APP_SECRET, { ...base, name: 'de-1' }), 'INVALID_INPUT', /already exists/)
    await expectPanelError(addPanel(db, APP_SECRET, { ...base, name: 'bad name' }), 'INVALID_INPUT', /panel name/)
    await expectPanelError(addPanel(db, APP_SECRET, { ...base, name: 'x1', baseUrl: 'ftp://x' }), 'INVALID_INPUT', /http/)
    await expectPanelError(addPanel(db, APP_SECRET, { ...base, name: 'x2', type: '3x-ui' }), 'PANEL_MISCONFIGURED', /inboundId/)
    await expectPanelError(addPanel(db, APP_SECRET, { ...base, name: 'x3', password: '' }), 'INVALID_INPUT', /password/)
    await expectPanelError(ensureLocation(db, 'Bad Code'), 'INVALID_INPUT', /location code/)
  })

  it('records health and selects the least loaded healthy panel with room', async () => {
    const { id: locationId } = await ensureLocation(db, 'nl')
    await expectPanelError(selectPanel(db, { locationId }), 'NO_PANEL_AVAILABLE', /location nl: it has no panels/)
    const small = await addPanel(db, APP_SECRET, { name: 'nl-small', type: 'marzban', baseUrl: marzban.url, username: 'admin', password: 'marz-pass', locationId, capacity: 2 })
    const big = await addPanel(db, APP_SECRET, { name: 'nl-big', type: '3x-ui', baseUrl: xui.url, username: 'admin', password: 'xui-pass', locationId, capacity: 10, settings: { inboundId: 1 } })
    await expectPanelError(selectPanel(db, { locationId }), 'NO_PANEL_AVAILABLE', /nl-small is not checked yet; nl-big is not checked yet/)

    await updateHealth(db, small.id, HEALTHY)
    await updateHealth(db, big.id, DOWN)
    expect(await getPanelById(db, big.id)).toMatchObject({ healthStatus: 'down', healthDetail: 'unreachable' })
    expect((await selectPanel(db, { locationId })).id).toBe(small.id)

    await updateHealth(db, big.id, HEALTHY)
    await account(small)
    // small: 1/2 = 50 %, big: 0/10 = 0 %
    expect((await selectPanel(db, { locationId })).id).toBe(big.id)
    for (let i = 0; i < 5; i++) await account(big)
    await account(big, 'deleted')
    // small 50 %, big 5/10 = 50 %: the one with fewer accounts wins the tie
    expect((await selectPanel(db, { locationId })).id).toBe(small.id)
    await account(small)
    expect((await selectPanel(db, { locationId })).id).toBe(big.id)

    await db('panels').where({ id: big.id }).update({ active: false })
    await expectPanelError(selectPanel(db, { locationId }), 'NO_PANEL_AVAILABLE', /nl-small is full \(2\/2 active accounts\); nl-big is switched off/)
    await db('panels').where({ id: big.id }).update({ active: true })
    await expectPanelError(selectPanel(db, { locationId: 99_999 }), 'NO_PANEL_AVAILABLE', /location 99999 does not exist/)

    const listed = await listPanels(db)
    expect(listed.find((p) => p.id === small.id)).toMatchObject({ activeAccounts: 2, locationCode: 'nl', healthStatus: 'healthy', version: '0.8.4' })
    expect(listed.find((p) => p.id === big.id)!.activeAccounts).toBe(5)
  })

  it('reconciles accounts against the panel and only reports', async () => {
    const { id: locationId } = await ensureLocation(db, 'fi')
    const panel = await addPanel(db, APP_SECRET, { name: 'fi-1', type: '3x-ui', baseUrl: xui.url, username: 'admin', password: 'xui-pass', locationId, settings: { inboundId: 2 } })
    const adapter = loadAdapterForPanel(panel, { appSecret: APP_SECRET, store: new MemoryPanelStore() })
    try {
      const present = await account(panel)
      await adapter.createAccount({ username: present.username, owner: ownerMarker(present.orderId), expiresAt: null, dataLimitBytes: 0 })
      const missing = await account(panel)
      const gone = await account(panel, 'deleted')
      await adapter.createAccount({ username: 'fp_777777', owner: ownerMarker(777777), expiresAt: null, dataLimitBytes: 0 })
      xui.seedClient(2, { email: 'walkin', comment: 'cash customer' })

      const report = await reconcilePanel(db, panel, adapter)
      expect(report.missing).toEqual([{ accountId: expect.any(Number), username: missing.username, status: 'active' }])
      expect(report.missing.map((m) => m.username)).not.toContain(gone.username)
      const extra = Object.fromEntries(report.extra.map((e) => [e.username, e.owner]))
      expect(extra.fp_777777).toBe(ownerMarker(777777))
      expect(extra.walkin).toBeNull()
      expect(extra[present.username]).toBeUndefined()
      expect(report.matched).toBe(1)
      expect(report.inDatabase).toBe(2)
      expect(xui.client('walkin')).toBeDefined()
      expect(xui.client('fp_777777')).toBeDefined()
    } finally {
      await adapter.close()
    }
  })

  it('serves activities through a panel directory', async () => {
    const directory = createPanelDirectory(db, { appSecret: APP_SECRET, store: new MemoryPanelStore() })
    const typed: PanelDirectory = directory
    try {
      const { id: locationId } = await ensureLocation(db, 'de')
      const panel = (await getPanelByName(db, 'de-1'))!
      await typed.recordHealth(panel.id, HEALTHY)
      expect(await typed.select(locationId)).toEqual({ id: panel.id, name: 'de-1', locationId })
      const a = await typed.adapter(panel.id)
      expect(await typed.adapter(panel.id)).toBe(a)
      expect((await a.health()).ok).toBe(true)
      await db('panels').where({ id: panel.id }).update({ capacity: 50, updatedAt: new Date(Date.now() + 1000) })
      expect(await typed.adapter(panel.id)).not.toBe(a)
      expect((await typed.list()).map((p) => p.name)).toContain('de-1')
    } finally {
      await directory.close()
    }
  })
})
