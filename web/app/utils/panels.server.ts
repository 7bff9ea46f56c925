import type { AppLoadContext } from '@remix-run/node'
import { RedisPanelStore } from '#activities/panels/store.ts'
import { redisNames } from '#config/redis-names.ts'
import type { PanelAdapter } from '#activities/panels/types.ts'
import { loadAdapterForPanel, type PanelRow } from '#db/panels.ts'

/**
 * Runs `fn` with a short-lived adapter for one panel (sessions and the 3X-UI write lock shared through
 * Redis with the worker). The adapter holds decrypted credentials only for the call.
 */
export async function withPanel<T>(context: AppLoadContext, panel: PanelRow, fn: (adapter: PanelAdapter) => Promise<T>, timeoutMs = 8_000): Promise<T> {
  const adapter = loadAdapterForPanel(panel, { appSecret: context.env.APP_SECRET, store: new RedisPanelStore(context.redis, redisNames(context.env).scope('panel')), timeoutMs })
  try {
    return await fn(adapter)
  } finally {
    await adapter.close().catch(() => undefined)
  }
}
