import { z } from 'zod'
import { healthFromError } from '#activities/panels/common.ts'
import { createPanelAdapter } from '#activities/panels/index.ts'
import { PanelError, displayUrl } from '#activities/panels/errors.ts'
import { parsePanelSettings, type PanelConnection } from '#activities/panels/settings.ts'
import { MemoryPanelStore, type PanelStateStore } from '#activities/panels/store.ts'
import { PANEL_TYPES, type PanelAccount, type PanelAdapter, type PanelHealth, type PanelType } from '#activities/panels/types.ts'
import { seal, unseal } from './crypto.ts'
import type { Db } from './knex.ts'

/**
 * The panel repository: stored panels with their sealed credentials, the adapters built from them,
 * health bookkeeping, selection of a panel for a new account, and reconciliation against a panel.
 */

export const CREDENTIALS_PURPOSE = 'panel-credentials'

export type PanelHealthStatus = 'unknown' | 'healthy' | 'degraded' | 'down'

export interface PanelRow {
  id: number
  name: string
  type: PanelType
  baseUrl: string
  /** Ciphertext; see `panelConnection()`. */
  credentialsEncrypted: string
  proxyUrl: string | null
  locationId: number
  capacity: number
  settings: Record<string, unknown>
  active: boolean
  healthStatus: PanelHealthStatus
  healthDetail: string | null
  version: string | null
  healthCheckedAt: Date | null
  createdAt: Date
  updatedAt: Date
}

/** A panel with how full it is, for lists and selection. */
export interface PanelWithLoad extends PanelRow {
  locationCode: string
  activeAccounts: number
}

const CredentialsSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  totpSecret: z.string().min(1).nullable().optional(),
})
export type PanelCredentials = z.infer<typeof CredentialsSchema>

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/
const LOCATION_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/

export interface NewPanel {
  name: string
  type: PanelType
  baseUrl: string
  username: string
  password: string
  totpSecret?: string | null
  proxyUrl?: string | null
  locationId: number
  capacity?: number
  /** Marzban: `{ inbounds?, proxies? }`; 3X-UI: `{ inboundId, publicHost?, … }` (see activities/panels/settings.ts). */
  settings?: Record<string, unknown>
}

function httpUrl(raw: string, what: string): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new PanelError('INVALID_INPUT', `${what} "${displayUrl(raw)}" is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PanelError('INVALID_INPUT', `${what} must start with http:// or https://`)
  return raw
}

/** How a panel is tried before it is saved (admin page, CLI). */
export interface SaveCheck {
  /** Save even when the probe fails: the failure is recorded, so selection leaves the panel out until a check passes. */
  saveAnyway: boolean
  timeoutMs?: number
}

/** A saved panel with the connection check of that save, when one was made. */
export type SavedPanel = PanelRow & { probe?: PanelHealth }

/** A panel was not saved because its connection failed the probe; `health` says how. */
export class PanelCheckFailedError extends Error {
  override name = 'PanelCheckFailedError'
  constructor(readonly health: PanelHealth) {
    super(`the panel did not pass its connection check: ${health.error?.message ?? (health.reachable ? 'not working' : 'unreachable')}`)
  }
}

/**
 * Logs in with exactly these credentials and asks for the panel's status. The adapter gets a store of its own, so no
 * login cached by another process can stand in for these credentials. Panel problems come back as `ok: false`.
 */
export async function probePanel(connection: PanelConnection, appSecret: string): Promise<PanelHealth> {
  const started = performance.now()
  let adapter: PanelAdapter
  try {
    adapter = createPanelAdapter(connection, { store: new MemoryPanelStore(), appSecret })
  } catch (error) {
    return healthFromError(error, started)
  }
  try {
    return await adapter.health()
  } finally {
    await adapter.close().catch(() => undefined)
  }
}

/**
 * With `check`: probes the connection about to be saved and refuses (PanelCheckFailedError) a failing one unless
 * `saveAnyway`; the probe is recorded as the panel's health, so a healthy panel is selectable at once.
 */
export async function checkBeforeSave(connection: PanelConnection, appSecret: string, check: SaveCheck | undefined): Promise<PanelHealth | undefined> {
  if (!check) return undefined
  const health = await probePanel({ ...connection, timeoutMs: check.timeoutMs ?? connection.timeoutMs }, appSecret)
  if (!health.ok && !check.saveAnyway) throw new PanelCheckFailedError(health)
  return health
}

/**
 * Stores a panel; credentials are sealed under APP_SECRET and never stored or returned in clear. With `check`
 * (every admin-facing save), the connection is probed first; see `checkBeforeSave`.
 */
export async function addPanel(db: Db, appSecret: string, input: NewPanel, check?: SaveCheck): Promise<SavedPanel> {
  if (!NAME_PATTERN.test(input.name)) {
    throw new PanelError('INVALID_INPUT', `panel name "${input.name}" must be 1–63 letters, digits, dots, dashes or underscores`)
  }
  if (!PANEL_TYPES.includes(input.type)) throw new PanelError('INVALID_INPUT', `panel type must be one of ${PANEL_TYPES.join(', ')} (got "${String(input.type)}")`)
  httpUrl(input.baseUrl, 'panel URL')
  if (input.proxyUrl) httpUrl(input.proxyUrl, 'proxy URL')
  const capacity = input.capacity ?? 1000
  if (!Number.isInteger(capacity) || capacity < 0) throw new PanelError('INVALID_INPUT', `capacity must be a whole number ≥ 0 (got ${capacity})`)
  const settings = parsePanelSettings(input.type, input.settings ?? {})
  const credentials = CredentialsSchema.safeParse({ username: input.username, password: input.password, totpSecret: input.totpSecret ?? null })
  if (!credentials.success) throw new PanelError('INVALID_INPUT', 'panel username and password must not be empty')
  if (await getPanelByName(db, input.name)) throw new PanelError('INVALID_INPUT', `a panel named "${input.name}" already exists`)
  const health = await checkBeforeSave(
    { type: input.type, baseUrl: input.baseUrl, ...credentials.data, proxyUrl: input.proxyUrl ?? null, settings },
    appSecret,
    check,
  )
  const [row] = await db('panels')
    .insert({
      name: input.name,
      type: input.type,
      baseUrl: input.baseUrl,
      credentialsEncrypted: seal(appSecret, CREDENTIALS_PURPOSE, JSON.stringify(credentials.data)),
      proxyUrl: input.proxyUrl ?? null,
      locationId: input.locationId,
      capacity,
      settings: JSON.stringify(settings),
    })
    .returning('*')
  if (!health) return row as PanelRow
  await updateHealth(db, row.id, health)
  return { ...(await getPanelById(db, row.id))!, probe: health }
}

/** The location with this code, created (names = code) when it is new. */
export async function ensureLocation(db: Db, code: string): Promise<{ id: number; created: boolean }> {
  if (!LOCATION_PATTERN.test(code)) throw new PanelError('INVALID_INPUT', `location code "${code}" must be 1–32 characters of a-z, 0-9 and dashes`)
  const existing = await db('locations').where({ code }).first('id')
  if (existing) return { id: existing.id as number, created: false }
  const inserted = await db('locations').insert({ code, nameFa: code, nameEn: code }).onConflict('code').ignore().returning('id')
  if (inserted.length > 0) return { id: (inserted[0] as { id: number }).id, created: true }
  const raced = await db('locations').where({ code }).first('id')
  return { id: raced.id as number, created: false }
}

function withLoad(db: Db) {
  const counts = db('accounts').select('panelId').count<Record<string, number>>('* as n').where({ status: 'active' }).groupBy('panelId').as('a')
  return db('panels as p')
    .join('locations as l', 'l.id', 'p.locationId')
    .leftJoin(counts, 'a.panelId', 'p.id')
    .select('p.*', 'l.code as locationCode', db.raw('coalesce(a.n, 0)::int as active_accounts'))
}

export async function listPanels(db: Db): Promise<PanelWithLoad[]> {
  return withLoad(db).orderBy('p.id')
}

export async function getPanelById(db: Db, id: number): Promise<PanelRow | undefined> {
  return db('panels').where({ id }).first()
}

export async function getPanelByName(db: Db, name: string): Promise<PanelRow | undefined> {
  return db('panels').where({ name }).first()
}

/** Decrypts the credentials. The result holds a plaintext password: never log it. */
export function panelConnection(panel: PanelRow, appSecret: string, options: { timeoutMs?: number } = {}): PanelConnection {
  let credentials: PanelCredentials
  try {
    credentials = CredentialsSchema.parse(JSON.parse(unseal(appSecret, CREDENTIALS_PURPOSE, panel.credentialsEncrypted)))
  } catch (error) {
    throw new PanelError('PANEL_MISCONFIGURED', `credentials of panel "${panel.name}" cannot be read (wrong APP_SECRET or damaged row)`, { cause: error })
  }
  return {
    type: panel.type,
    baseUrl: panel.baseUrl,
    username: credentials.username,
    password: credentials.password,
    totpSecret: credentials.totpSecret ?? null,
    proxyUrl: panel.proxyUrl,
    settings: panel.settings,
    timeoutMs: options.timeoutMs,
  }
}

export interface AdapterOptions {
  appSecret: string
  /** Redis store in workers (shared logins, 3X-UI write lock); a memory store is enough for one-off tools. */
  store: PanelStateStore
  now?: () => Date
  timeoutMs?: number
}

/** Decrypts the panel's credentials and builds its adapter. Close the adapter when done. */
export function loadAdapterForPanel(panel: PanelRow, options: AdapterOptions): PanelAdapter {
  return createPanelAdapter(panelConnection(panel, options.appSecret, { timeoutMs: options.timeoutMs }), {
    store: options.store,
    appSecret: options.appSecret,
    now: options.now,
  })
}

/** `healthy` when the probe worked, `degraded` when the panel answered but is not usable, `down` when unreachable. */
export function healthStatusOf(health: PanelHealth): PanelHealthStatus {
  if (health.ok) return 'healthy'
  return health.reachable ? 'degraded' : 'down'
}

export function describeHealth(health: PanelHealth): string {
  if (!health.ok) return health.error?.message ?? (health.reachable ? 'not working' : 'unreachable')
  const parts = [`ok in ${health.latencyMs ?? '?'} ms`]
  const load = health.load
  if (load?.cpuPercent !== undefined) parts.push(`cpu ${load.cpuPercent.toFixed(1)}%`)
  if (load?.memUsedBytes !== undefined && load.memTotalBytes) parts.push(`memory ${Math.round((load.memUsedBytes / load.memTotalBytes) * 100)}%`)
  if (load?.usersTotal !== undefined) parts.push(`${load.usersActive ?? '?'} of ${load.usersTotal} users active`)
  if (load?.load1 !== undefined) parts.push(`load ${load.load1}`)
  return parts.join(', ')
}

/** Records a probe. `updated_at` is left alone: it marks configuration changes (adapters are rebuilt on them). */
export async function updateHealth(db: Db, panelId: number, health: PanelHealth, at: Date = new Date()): Promise<void> {
  const patch: Record<string, unknown> = {
    healthStatus: healthStatusOf(health),
    healthDetail: describeHealth(health).slice(0, 500),
    healthCheckedAt: at,
  }
  if (health.version) patch.version = health.coreVersion ? `${health.version} (xray ${health.coreVersion})` : health.version
  await db('panels').where({ id: panelId }).update(patch)
}

/**
 * The panel a new account in `locationId` goes to: active, last checked healthy, fewer active
 * accounts than its capacity; the least loaded (by share of capacity) first. Capacity is a soft
 * limit: two orders selecting at the same moment may both take the last place.
 */
export async function selectPanel(db: Db, input: { locationId: number }): Promise<PanelWithLoad> {
  const candidates: PanelWithLoad[] = await withLoad(db).where('p.locationId', input.locationId).orderBy('p.id')
  const usable = candidates
    .filter((p) => p.active && p.healthStatus === 'healthy' && p.activeAccounts < p.capacity)
    .sort((a, b) => a.activeAccounts / a.capacity - b.activeAccounts / b.capacity || a.activeAccounts - b.activeAccounts || a.id - b.id)
  if (usable[0]) return usable[0]

  const location = await db('locations').where({ id: input.locationId }).first('code')
  if (!location) throw new PanelError('NO_PANEL_AVAILABLE', `no panel available: location ${input.locationId} does not exist`)
  if (candidates.length === 0) throw new PanelError('NO_PANEL_AVAILABLE', `no panel available in location ${location.code}: it has no panels`)
  const reasons = candidates.map((p) => {
    if (!p.active) return `${p.name} is switched off`
    if (p.healthStatus !== 'healthy') return `${p.name} is ${p.healthStatus === 'unknown' ? 'not checked yet' : p.healthStatus}`
    return `${p.name} is full (${p.activeAccounts}/${p.capacity} active accounts)`
  })
  throw new PanelError('NO_PANEL_AVAILABLE', `no panel available in location ${location.code}: ${reasons.join('; ')}`)
}

export interface ReconcileReport {
  panelId: number
  panelName: string
  onPanel: number
  inDatabase: number
  matched: number
  /** Accounts flowpanel has (not deleted) that the panel does not list. */
  missing: { accountId: number; username: string; status: string }[]
  /** Panel users flowpanel has no account for; `owner` null = not made by flowpanel. */
  extra: { username: string; owner: string | null; status: PanelAccount['status'] }[]
}

/** Compares the accounts table with what the panel lists. Reports only: nothing is deleted or changed. */
export async function reconcilePanel(db: Db, panel: PanelRow, adapter: PanelAdapter): Promise<ReconcileReport> {
  const listed = await adapter.listAccounts()
  const ours: { id: number; panelUsername: string; status: string }[] = await db('accounts')
    .where({ panelId: panel.id })
    .whereNot({ status: 'deleted' })
    .select('id', 'panelUsername', 'status')
    .orderBy('id')
  const onPanel = new Map(listed.map((a) => [a.username.toLowerCase(), a]))
  const inDb = new Set(ours.map((a) => a.panelUsername.toLowerCase()))
  const missing = ours.filter((a) => !onPanel.has(a.panelUsername.toLowerCase())).map((a) => ({ accountId: a.id, username: a.panelUsername, status: a.status }))
  const extra = listed
    .filter((a) => !inDb.has(a.username.toLowerCase()))
    .map((a) => ({ username: a.username, owner: a.owner, status: a.status }))
    .sort((a, b) => a.username.localeCompare(b.username))
  return {
    panelId: panel.id,
    panelName: panel.name,
    onPanel: listed.length,
    inDatabase: ours.length,
    matched: ours.length - missing.length,
    missing,
    extra,
  }
}

/**
 * The panels as activities use them (see `PanelDirectory` in activities/deps.ts): selection,
 * adapters built once per panel and rebuilt when the row changes, health recording.
 */
export function createPanelDirectory(db: Db, options: AdapterOptions) {
  const cache = new Map<number, { updatedAt: number; adapter: PanelAdapter }>()
  return {
    async select(locationId: number): Promise<{ id: number; name: string; locationId: number }> {
      const p = await selectPanel(db, { locationId })
      return { id: p.id, name: p.name, locationId: p.locationId }
    },
    async adapter(panelId: number): Promise<PanelAdapter> {
      const panel = await getPanelById(db, panelId)
      if (!panel) throw new PanelError('PANEL_MISCONFIGURED', `panel ${panelId} does not exist`)
      const stamp = new Date(panel.updatedAt).getTime()
      const hit = cache.get(panelId)
      if (hit && hit.updatedAt === stamp) return hit.adapter
      const adapter = loadAdapterForPanel(panel, options)
      cache.set(panelId, { updatedAt: stamp, adapter })
      if (hit) void hit.adapter.close().catch(() => undefined)
      return adapter
    },
    async list(): Promise<{ id: number; name: string; locationId: number }[]> {
      const rows: PanelRow[] = await db('panels').where({ active: true }).orderBy('id')
      return rows.map((p) => ({ id: p.id, name: p.name, locationId: p.locationId }))
    },
    async recordHealth(panelId: number, health: PanelHealth): Promise<void> {
      await updateHealth(db, panelId, health)
    },
    async close(): Promise<void> {
      await Promise.all([...cache.values()].map((c) => c.adapter.close()))
      cache.clear()
    },
  }
}
