import { log } from '@temporalio/activity'
import { applyUsageSnapshot } from '#db/accounts.ts'
import { reportCreditChange } from '#temporal/start.ts'
import { usageWarnings } from '../workflows/periodic/rules.ts'
import type { ResolvedDeps } from './deps.ts'
import { createNotificationActivities } from './notifications.ts'
import { PanelError } from './panels/errors.ts'

export interface HealthPass {
  checked: number
  healthyPanelIds: number[]
  problems: string[]
}

export interface SyncResult {
  panelId: number
  synced: number
  warningsSent: number
  /** Accounts flowpanel has for the panel that the panel does not list (reported, never deleted). */
  missingOnPanel: string[]
}

export function createPeriodicActivities(deps: ResolvedDeps) {
  const { db } = deps
  const notifications = createNotificationActivities(deps)
  return {
    /** Checks every active panel and stores the result, which panel selection reads. */
    async checkPanelsHealth(): Promise<HealthPass> {
      const panels = await deps.panels.list()
      const pass: HealthPass = { checked: 0, healthyPanelIds: [], problems: [] }
      for (const panel of panels) {
        pass.checked++
        try {
          const adapter = await deps.panels.adapter(panel.id)
          const health = await adapter.health()
          await deps.panels.recordHealth(panel.id, health)
          if (health.ok) pass.healthyPanelIds.push(panel.id)
          else pass.problems.push(`${panel.name}: ${health.error?.message ?? (health.reachable ? 'not working' : 'unreachable')}`)
        } catch (error) {
          pass.problems.push(`${panel.name}: ${error instanceof Error ? error.message : String(error)}`)
        }
      }
      return pass
    },

    /**
     * Copies usage, limits, expiry and state from one panel into `accounts`, then sends the 80 % traffic and
     * three-days-left warnings (each once per term). Sync never deletes anything.
     */
    async syncPanelAccounts(input: { panelId: number; at: number }): Promise<SyncResult> {
      const adapter = await deps.panels.adapter(input.panelId)
      let listed
      try {
        listed = await adapter.listAccounts()
      } catch (error) {
        if (error instanceof PanelError && error.retryable) throw new Error(`panel ${input.panelId} could not be listed: ${error.message}`)
        throw error
      }
      const updated = await applyUsageSnapshot(
        db,
        input.panelId,
        listed.map((a) => ({
          panelUsername: a.username,
          status: a.status,
          usedBytes: BigInt(a.usedBytes),
          dataLimitBytes: BigInt(a.dataLimitBytes),
          expiresAt: a.expiresAt,
        })),
        new Date(input.at),
      )
      const names = new Set(listed.map((a) => a.username.toLowerCase()))
      const ours: { panelUsername: string }[] = await db('accounts').where({ panelId: input.panelId }).whereNot({ status: 'deleted' }).select('panelUsername')
      const missingOnPanel = ours.map((a) => a.panelUsername).filter((n) => !names.has(n.toLowerCase()))
      if (missingOnPanel.length > 0) log.warn('accounts missing on their panel', { panelId: input.panelId, missing: missingOnPanel.slice(0, 20) })
      let warningsSent = 0
      for (const account of updated) {
        const warnings = usageWarnings(
          {
            accountId: account.id,
            status: account.status,
            dataLimitBytes: BigInt(account.dataLimitBytes),
            dataUsedBytes: BigInt(account.dataUsedBytes),
            expiresAt: account.expiresAt ? new Date(account.expiresAt).getTime() : null,
          },
          input.at,
        )
        for (const w of warnings) {
          const result = await notifications.notifyUser({
            key: w.key,
            userId: account.userId,
            message: {
              kind: 'usage_warning',
              accountId: account.id,
              username: account.panelUsername,
              warning: w.warning,
              usedPercent: w.usedPercent,
              expiresAt: account.expiresAt ? new Date(account.expiresAt).toISOString() : null,
            },
          })
          warningsSent += result.sent
        }
      }
      return { panelId: input.panelId, synced: updated.length, warningsSent, missingOnPanel }
    },

    /**
     * A safety net for credit reports lost while Temporal was away: every agent below zero gets a credit watch, and
     * every agent back at zero or above who still has accounts disabled for negative credit wakes their watch.
     */
    async ensureCreditWatches(): Promise<number> {
      const negative: { userId: number; usable: string }[] = await db('wallets as w')
        .join('users as u', 'u.id', 'w.userId')
        .where('u.role', 'agent')
        .whereNotNull('w.negativeSince')
        .select('w.userId', db.raw('(w.confirmed + w.pending)::text as "usable"'))
      const recovered: { userId: number; usable: string }[] = await db('wallets as w')
        .join('users as u', 'u.id', 'w.userId')
        .where('u.role', 'agent')
        .whereNull('w.negativeSince')
        .whereExists(db('accounts as a').whereRaw('a.user_id = w.user_id').where({ 'a.status': 'disabled', 'a.disabledReason': 'negative_credit' }))
        .select('w.userId', db.raw('(w.confirmed + w.pending)::text as "usable"'))
      for (const row of negative) {
        await reportCreditChange(deps.temporal, { userId: row.userId, role: 'agent', usable: BigInt(row.usable), backToNonNegative: false }, deps.clock())
      }
      for (const row of recovered) {
        await reportCreditChange(deps.temporal, { userId: row.userId, role: 'agent', usable: BigInt(row.usable), backToNonNegative: true }, deps.clock())
      }
      return negative.length + recovered.length
    },
  }
}
