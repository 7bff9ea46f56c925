import { ApplicationFailure } from '@temporalio/common'
import { getAccount, markAccountRemoved, markOrdersRefunded, quoteAccountRefund } from '#db/accounts.ts'
import { finishRefund } from '#db/refunds.ts'
import type { RefundStatus } from '#temporal/messages.ts'
import type { ResolvedDeps } from './deps.ts'
import { withHeartbeat } from './heartbeat.ts'
import { publish } from './notifications.ts'
import { asActivity, PanelError, toApplicationFailure } from './panels/errors.ts'
import { ownerMarker } from './panels/username.ts'

export interface RefundPlan {
  accountId: number
  userId: number
  panelId: number
  username: string
  originOrderId: number
  alreadyDeleted: boolean
  /** Decimal strings. */
  amount: string
  paid: string
  rule: string
  allocations: { orderId: number; amount: string }[]
  panelAction: 'delete' | 'disable'
}

export function createRefundActivities(deps: ResolvedDeps) {
  const { db } = deps
  return {
    /** Quotes the refund at the workflow's time `at` with the configured policy. */
    async quoteAccountRefundAt(input: { accountId: number; at: number }): Promise<RefundPlan> {
      const q = await quoteAccountRefund(db, input.accountId, { now: input.at, policy: deps.settings.refundPolicy })
      if (!q) throw ApplicationFailure.create({ type: 'NotFound', message: `Account ${input.accountId} does not exist`, nonRetryable: true })
      return {
        accountId: q.accountId,
        userId: q.userId,
        panelId: q.panelId,
        username: q.panelUsername,
        originOrderId: q.originOrderId,
        alreadyDeleted: q.status === 'deleted',
        amount: q.quote.amount.toString(),
        paid: q.paid.toString(),
        rule: q.quote.rule,
        allocations: q.allocations.map((a) => ({ orderId: a.orderId, amount: a.amount.toString() })),
        panelAction: q.panelAction,
      }
    },

    /**
     * Makes sure the account no longer works: deletes the panel user (gone already counts) or disables it. Any
     * failure is retried by the workflow: no money goes back while the panel cannot confirm.
     */
    async removeAccountFromPanel(input: { accountId: number; action: 'delete' | 'disable' }): Promise<void> {
      const account = await getAccount(db, input.accountId)
      if (!account) throw ApplicationFailure.create({ type: 'NotFound', message: `Account ${input.accountId} does not exist`, nonRetryable: true })
      const adapter = await deps.panels.adapter(account.panelId)
      if (input.action === 'delete') {
        await withHeartbeat(() => asActivity(() => adapter.delete(account.panelUsername, { owner: ownerMarker(account.orderId) })))
        return
      }
      try {
        const after = await withHeartbeat(() => adapter.disable(account.panelUsername))
        if (after.status === 'active') throw new Error(`panel still reports ${account.panelUsername} as active after disabling it`)
      } catch (error) {
        if (error instanceof PanelError && error.code === 'NOT_FOUND') return
        throw toApplicationFailure(error)
      }
    },

    /** Marks the account removed, its orders refunded and its refund row done (`amount`: what was given back; absent in older histories). */
    async markAccountRefunded(input: { accountId: number; action: 'delete' | 'disable'; orderIds: number[]; amount?: string }): Promise<void> {
      await db.transaction(async (trx) => {
        await markAccountRemoved(trx, input.accountId, input.action)
        await markOrdersRefunded(trx, input.orderIds)
        await finishRefund(trx, input.accountId, input.amount ?? '0')
      })
    },

    async publishRefundStatus(input: { workflowId: string; status: RefundStatus }): Promise<void> {
      await publish(deps, input.workflowId, input.status)
    },
  }
}
