import { getWallet } from '#db/ledger.ts'
import { activeAccountIdsOfUser, getAccount, markDisabledForCredit, markReEnabledAfterCredit } from '#db/accounts.ts'
import type { CreditWatchStatus } from '#temporal/messages.ts'
import type { ResolvedDeps } from './deps.ts'
import { withHeartbeat } from './heartbeat.ts'
import { publish } from './notifications.ts'
import { asActivity } from './panels/errors.ts'

export interface CreditState {
  usable: string
  /** How long usable credit has been below zero by the database clock; null when it is >= 0. */
  negativeForMs: number | null
  graceMs: number
  concurrency: number
  username: string
}

export function createCreditWatchActivities(deps: ResolvedDeps) {
  const { db } = deps
  return {
    async loadCreditState(input: { agentUserId: number }): Promise<CreditState> {
      const wallet = await getWallet(db, input.agentUserId)
      const user = await db('users').where({ id: input.agentUserId }).first('username')
      let negativeForMs: number | null = null
      if (wallet.usable < 0n) {
        const row = await db('wallets')
          .where({ userId: input.agentUserId })
          .first(db.raw(`coalesce(extract(epoch from (now() - negative_since)) * 1000, 0)::bigint::text as "ms"`))
        negativeForMs = Number(row?.ms ?? 0)
      }
      return {
        usable: wallet.usable.toString(),
        negativeForMs,
        graceMs: deps.env.NEGATIVE_CREDIT_GRACE,
        concurrency: deps.settings.creditWatchConcurrency,
        username: user?.username ?? `agent ${input.agentUserId}`,
      }
    },

    async listActiveAccountsOfAgent(input: { agentUserId: number }): Promise<number[]> {
      return activeAccountIdsOfUser(db, input.agentUserId)
    },

    /**
     * Disables one account for negative credit: on the panel first, then in the database. An account that is no
     * longer active (an admin disabled or deleted it meanwhile) is left alone and reported as not disabled.
     */
    async disableAccountForCredit(input: { accountId: number }): Promise<{ disabled: boolean }> {
      const account = await getAccount(db, input.accountId)
      if (!account) return { disabled: false }
      if (account.status !== 'active') return { disabled: account.status === 'disabled' && account.disabledReason === 'negative_credit' }
      const adapter = await deps.panels.adapter(account.panelId)
      await withHeartbeat(() => asActivity(() => adapter.disable(account.panelUsername)))
      return { disabled: await markDisabledForCredit(db, account.id) }
    },

    /** Re-enables an account only if it is still disabled for negative credit (never one an admin disabled). */
    async enableAccountAfterCredit(input: { accountId: number }): Promise<{ enabled: boolean }> {
      const account = await getAccount(db, input.accountId)
      if (!account || account.status !== 'disabled' || account.disabledReason !== 'negative_credit') return { enabled: false }
      const adapter = await deps.panels.adapter(account.panelId)
      await withHeartbeat(() => asActivity(() => adapter.enable(account.panelUsername)))
      return { enabled: await markReEnabledAfterCredit(db, account.id) }
    },

    async publishCreditWatchStatus(input: { workflowId: string; status: CreditWatchStatus }): Promise<void> {
      await publish(deps, input.workflowId, input.status)
    },
  }
}
