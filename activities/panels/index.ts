import { XuiAdapter } from './3x-ui.ts'
import { PanelError } from './errors.ts'
import { MarzbanAdapter } from './marzban.ts'
import type { PanelConnection } from './settings.ts'
import type { PanelStateStore } from './store.ts'
import type { PanelAdapter } from './types.ts'

export * from './errors.ts'
export * from './types.ts'
export * from './username.ts'
export { MemoryPanelStore, PANEL_SESSION_PURPOSE, RedisPanelStore, type PanelStateStore } from './store.ts'
export { parsePanelSettings, type PanelConnection, type MarzbanSettings, type XuiSettings } from './settings.ts'

export interface PanelAdapterDeps {
  /** Shared login tokens / sessions and the 3X-UI write lock; Redis in every multi-process setup. */
  store: PanelStateStore
  /** APP_SECRET: the logins cached in the store are sealed under it. */
  appSecret: string
  now?: () => Date
}

/** Builds the adapter for a panel type. The connection holds plaintext credentials: keep it out of logs. */
export function createPanelAdapter(connection: PanelConnection, deps: PanelAdapterDeps): PanelAdapter {
  switch (connection.type) {
    case 'marzban':
      return new MarzbanAdapter(connection, deps)
    case '3x-ui':
      return new XuiAdapter(connection, deps)
    default:
      throw new PanelError('PANEL_MISCONFIGURED', `unknown panel type "${String((connection as { type: unknown }).type)}"`)
  }
}
