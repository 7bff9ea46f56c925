import { getEnv } from '#config/env.ts'
import { displayUrl, PanelError } from '#activities/panels/errors.ts'
import { MemoryPanelStore } from '#activities/panels/store.ts'
import { PANEL_TYPES, type PanelHealth, type PanelType } from '#activities/panels/types.ts'
import {
  addPanel,
  describeHealth,
  ensureLocation,
  getPanelByName,
  listPanels,
  loadAdapterForPanel,
  PanelCheckFailedError,
  reconcilePanel,
  updateHealth,
  type PanelRow,
} from '#db/panels.ts'
import type { Db } from '#db/knex.ts'
import { parseId } from '#domain/ids.ts'
import { optionalFlag, requireFlag, UsageError, type Command, type Flags } from '../cli.ts'
import { withCliDatabase } from './db.ts'

/** Panel input errors are usage errors at the CLI: the operator fixes the flags. */
async function asUsage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (error instanceof PanelError && (error.code === 'INVALID_INPUT' || error.code === 'PANEL_MISCONFIGURED')) throw new UsageError(error.message)
    throw error
  }
}

function panelType(flags: Flags): PanelType {
  const type = requireFlag(flags, 'type')
  if (!(PANEL_TYPES as readonly string[]).includes(type)) throw new UsageError(`--type must be ${PANEL_TYPES.join(' or ')} (got "${type}")`)
  return type as PanelType
}

function settingsFromFlags(type: PanelType, flags: Flags): Record<string, unknown> {
  const inbound = optionalFlag(flags, 'inbound')
  const publicHost = optionalFlag(flags, 'public-host')
  const subscriptionUrl = optionalFlag(flags, 'sub-url')
  const settings: Record<string, unknown> = {}
  if (type === '3x-ui') {
    if (inbound === undefined) throw new UsageError('3x-ui panels need --inbound <id>: the id of the inbound new clients are added to')
    if (parseId(inbound) === null) throw new UsageError(`--inbound for a 3x-ui panel is the inbound id, a positive number (got "${inbound}")`)
    settings.inboundId = Number(inbound)
    if (publicHost) settings.publicHost = publicHost
  } else {
    if (inbound !== undefined) settings.inbounds = inbound.split(',').map((t) => t.trim()).filter(Boolean)
    if (publicHost) throw new UsageError('--public-host applies to 3x-ui panels only')
  }
  if (subscriptionUrl) settings.subscriptionBaseUrl = subscriptionUrl
  return settings
}

function capacityFlag(flags: Flags): number | undefined {
  const raw = optionalFlag(flags, 'capacity')
  if (raw === undefined) return undefined
  if (!/^[0-9]{1,8}$/.test(raw)) throw new UsageError(`--capacity must be a whole number of accounts (got "${raw}")`)
  return Number(raw)
}

async function requirePanel(db: Db, name: string | undefined, usage: string): Promise<PanelRow> {
  if (!name) throw new UsageError(`which panel? ${usage}`)
  const panel = await getPanelByName(db, name)
  if (!panel) throw new UsageError(`no panel named "${name}" (see \`panel list\`)`)
  return panel
}

const add: Command = {
  name: ['panel', 'add'],
  usage:
    'panel add --type marzban|3x-ui --name NAME --url URL --username USER --password PASS [--proxy URL] [--inbound TAGS|ID] [--location CODE] [--capacity N] [--totp-secret BASE32] [--public-host HOST] [--sub-url URL] [--save-anyway]',
  summary: 'Register a panel after logging in to it (credentials are stored encrypted); --save-anyway keeps one that fails the check',
  async run({ flags, out }) {
    const type = panelType(flags)
    const name = requireFlag(flags, 'name', 'name')
    const url = requireFlag(flags, 'url')
    const username = requireFlag(flags, 'username')
    const password = requireFlag(flags, 'password')
    const proxyUrl = optionalFlag(flags, 'proxy')
    const locationCode = optionalFlag(flags, 'location') ?? 'default'
    const capacity = capacityFlag(flags)
    const totpSecret = optionalFlag(flags, 'totp-secret')
    const settings = settingsFromFlags(type, flags)
    const saveAnyway = flags['save-anyway'] === true
    const env = getEnv()
    return withCliDatabase(flags, 'panel add', (db) =>
      asUsage(async () => {
        const location = await ensureLocation(db, locationCode)
        let panel
        try {
          const input = { name, type, baseUrl: url, username, password, proxyUrl, totpSecret, locationId: location.id, capacity, settings }
          panel = await addPanel(db, env.APP_SECRET, input, { saveAnyway })
        } catch (error) {
          if (!(error instanceof PanelCheckFailedError)) throw error
          if (location.created) out(`location "${locationCode}" created`)
          out(`panel "${name}" was not saved: ${describeHealth(error.health)}. Fix the flags, or add --save-anyway to save it as it is.`)
          return 1
        }
        if (location.created) out(`location "${locationCode}" created`)
        out(
          `panel "${panel.name}" added (id ${panel.id}, ${panel.type}, ${displayUrl(panel.baseUrl)}, location ${locationCode}, capacity ${panel.capacity}` +
            `${panel.proxyUrl ? ', via proxy' : ''}).`,
        )
        if (panel.probe) printHealth(out, panel, panel.probe)
        if (panel.probe && !panel.probe.ok) out(`saved anyway: it gets no new accounts until \`panel check ${panel.name}\` passes`)
        return 0
      }),
    )
  },
}

const list: Command = {
  name: ['panel', 'list'],
  usage: 'panel list',
  summary: 'List panels with location, load and last health check',
  async run({ flags, out }) {
    return withCliDatabase(flags, 'panel list', async (db) => {
      const panels = await listPanels(db)
      if (panels.length === 0) {
        out('no panels yet (add one with `panel add`)')
        return 0
      }
      const rows = panels.map((p) => [
        String(p.id),
        p.name,
        p.type,
        displayUrl(p.baseUrl),
        p.locationCode,
        `${p.activeAccounts}/${p.capacity}`,
        p.active ? p.healthStatus : 'off',
        p.version ?? '-',
        p.healthCheckedAt ? new Date(p.healthCheckedAt).toISOString().replace(/\.\d+Z$/, 'Z') : 'never',
      ])
      const header = ['id', 'name', 'type', 'url', 'location', 'accounts', 'health', 'version', 'checked']
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
      for (const r of [header, ...rows]) out(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd())
      return 0
    })
  },
}

function printHealth(out: (line: string) => void, panel: PanelRow, health: PanelHealth): number {
  if (!health.reachable) {
    out(`${panel.name}: unreachable: ${displayUrl(panel.baseUrl)} (${health.error?.message ?? 'no answer'})`)
    return 1
  }
  if (!health.ok) {
    out(`${panel.name}: not working: ${health.error?.message ?? 'unknown problem'}`)
    return 1
  }
  const version = [health.version && `${panel.type} ${health.version}`, health.coreVersion && `xray ${health.coreVersion}`].filter(Boolean).join(', ')
  out(`${panel.name}: healthy (${version || panel.type}; ${describeHealth(health)})`)
  return 0
}

const check: Command = {
  name: ['panel', 'check'],
  usage: 'panel check NAME',
  summary: 'Probe a panel (login + status call), print and store its health',
  async run({ args, flags, out }) {
    const env = getEnv()
    return withCliDatabase(flags, 'panel check', async (db) => {
      const panel = await asUsage(() => requirePanel(db, args[0], 'usage: panel check NAME'))
      const adapter = await asUsage(async () => loadAdapterForPanel(panel, { appSecret: env.APP_SECRET, store: new MemoryPanelStore() }))
      try {
        const health = await adapter.health()
        await updateHealth(db, panel.id, health)
        return printHealth(out, panel, health)
      } finally {
        await adapter.close()
      }
    })
  },
}

const sync: Command = {
  name: ['panel', 'sync'],
  usage: 'panel sync NAME',
  summary: 'Compare accounts with the users on a panel; reports missing/extra, never deletes',
  async run({ args, flags, out }) {
    const env = getEnv()
    return withCliDatabase(flags, 'panel sync', async (db) => {
      const panel = await asUsage(() => requirePanel(db, args[0], 'usage: panel sync NAME'))
      const adapter = await asUsage(async () => loadAdapterForPanel(panel, { appSecret: env.APP_SECRET, store: new MemoryPanelStore() }))
      try {
        const report = await reconcilePanel(db, panel, adapter)
        out(`${panel.name}: ${report.onPanel} user(s) on the panel, ${report.inDatabase} account(s) in flowpanel, ${report.matched} matched`)
        out(`missing on the panel (${report.missing.length}):`)
        for (const m of report.missing) out(`  ${m.username}  account ${m.accountId}, ${m.status}`)
        out(`extra on the panel (${report.extra.length}):`)
        for (const e of report.extra) out(`  ${e.username}  ${e.status}, ${e.owner ?? 'not made by flowpanel'}`)
        out('nothing was changed')
        return 0
      } finally {
        await adapter.close()
      }
    })
  },
}

export const commands: Command[] = [add, list, check, sync]
