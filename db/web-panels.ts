import { PanelError, displayUrl } from '#activities/panels/errors.ts'
import { parsePanelSettings } from '#activities/panels/settings.ts'
import { PANEL_TYPES, type PanelType } from '#activities/panels/types.ts'
import { seal } from './crypto.ts'
import type { Db } from './knex.ts'
import { checkBeforeSave, CREDENTIALS_PURPOSE, getPanelById, getPanelByName, panelConnection, updateHealth, type PanelRow, type SaveCheck, type SavedPanel } from './panels.ts'

/** Editing a stored panel from the admin console (db/panels.ts adds panels). */
export interface PanelEdit {
  name: string
  type: PanelType
  baseUrl: string
  /** New panel admin username; with `password` null, the stored password is kept. */
  username: string
  password: string | null
  proxyUrl: string | null
  locationId: number
  capacity: number
  settings: Record<string, unknown>
  active: boolean
}

function checkUrl(raw: string, what: string): void {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new PanelError('INVALID_INPUT', `${what} "${displayUrl(raw)}" is not a URL`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new PanelError('INVALID_INPUT', `${what} must start with http:// or https://`)
}

/**
 * Updates a panel; credentials are re-sealed (the old password is kept unless a new one is given). Returns the row.
 * With `check`, the edited connection is probed first and the result recorded (see `checkBeforeSave`).
 */
export async function updatePanel(db: Db, appSecret: string, id: number, input: PanelEdit, check?: SaveCheck): Promise<SavedPanel | undefined> {
  const current = await getPanelById(db, id)
  if (!current) return undefined
  if (!PANEL_TYPES.includes(input.type)) throw new PanelError('INVALID_INPUT', `panel type must be one of ${PANEL_TYPES.join(', ')}`)
  checkUrl(input.baseUrl, 'panel URL')
  if (input.proxyUrl) checkUrl(input.proxyUrl, 'proxy URL')
  const settings = parsePanelSettings(input.type, input.settings)
  const other = await getPanelByName(db, input.name)
  if (other && other.id !== id) throw new PanelError('INVALID_INPUT', `a panel named "${input.name}" already exists`)
  const old = panelConnection(current, appSecret)
  const credentials = { username: input.username, password: input.password ?? old.password, totpSecret: old.totpSecret ?? null }
  const health = await checkBeforeSave({ type: input.type, baseUrl: input.baseUrl, ...credentials, proxyUrl: input.proxyUrl, settings }, appSecret, check)
  const [row] = await db('panels')
    .where({ id })
    .update({
      name: input.name,
      type: input.type,
      baseUrl: input.baseUrl,
      credentialsEncrypted: seal(appSecret, CREDENTIALS_PURPOSE, JSON.stringify(credentials)),
      proxyUrl: input.proxyUrl,
      locationId: input.locationId,
      capacity: input.capacity,
      settings: JSON.stringify(settings),
      active: input.active,
      updatedAt: db.fn.now(),
    })
    .returning('*')
  if (!health) return row as PanelRow
  await updateHealth(db, id, health)
  return { ...(await getPanelById(db, id))!, probe: health }
}

/** Takes a panel out of (or back into) selection for new accounts. */
export async function setPanelActive(db: Db, id: number, active: boolean): Promise<boolean> {
  return (await db('panels').where({ id }).update({ active, updatedAt: db.fn.now() })) > 0
}

/** The stored admin username of a panel (never the password), for the edit form. */
export function panelUsername(panel: PanelRow, appSecret: string): string {
  try {
    return panelConnection(panel, appSecret).username
  } catch {
    return ''
  }
}
