import { ApplicationFailure } from '@temporalio/common'
import { debitOrder, refundOrder, type LedgerResultJson } from '#db/ledger.ts'
import { getAccount, insertAccountOnce, setAccountTerms } from '#db/accounts.ts'
import { getOrder, setOrderStatus } from '#db/orders.ts'
import { pendingPaymentOfOrder } from '#db/payments.ts'
import type { OrderKind, OrderPayMethod, OrderStatus as OrderRowStatus, Role } from '#db/models.ts'
import { storableText } from '#domain/text.ts'
import type { OrderStatus } from '#temporal/messages.ts'
import type { PanelRef, ResolvedDeps } from './deps.ts'
import { withHeartbeat } from './heartbeat.ts'
import { moveMoney } from './ledger.ts'
import { publish } from './notifications.ts'
import { asActivity } from './panels/errors.ts'
import { ownerMarker, usernameForOrder } from './panels/username.ts'

export interface OrderContext {
  order: {
    id: number
    userId: number
    planId: number
    locationId: number | null
    kind: OrderKind
    accountId: number | null
    payMethod: OrderPayMethod
    /** Decimal string. */
    price: string
    status: OrderRowStatus
  }
  plan: { id: number; name: string; days: number; dataLimitBytes: string }
  buyer: { role: Role; username: string }
  config: { provisionDeadlineMs: number; awaitPaymentMs: number }
  /** The order had already finished before this run (a repeated start): the run reports it and stops. */
  finished: { status: OrderRowStatus; accountId: number | null; subscriptionUrl: string | null; failureReason: string | null } | null
}

export interface CreatedPanelAccount {
  panelId: number
  username: string
  subscriptionUrl: string | null
  /** ISO instant or null (no expiry). */
  expiresAt: string | null
  dataLimitBytes: string
}

export interface AccountTermsSnapshot {
  accountId: number
  panelId: number
  username: string
  /** Epoch ms or null. */
  expiresAt: number | null
  dataLimitBytes: string
  dataUsedBytes: string
  status: string
}

function notFound(what: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'NotFound', message: what, nonRetryable: true })
}

export function createOrderActivities(deps: ResolvedDeps) {
  const { db } = deps
  const username = (orderId: number) => usernameForOrder(orderId, deps.settings.panelUsernamePrefix)

  return {
    async loadOrderForWorkflow(input: { orderId: number }): Promise<OrderContext> {
      const order = await getOrder(db, input.orderId)
      if (!order) throw notFound(`Order ${input.orderId} does not exist`)
      const plan = await db('plans').where({ id: order.planId }).first('id', 'nameEn', 'days', 'dataLimitBytes')
      const buyer = await db('users').where({ id: order.userId }).first('role', 'username')
      if (!plan || !buyer) throw notFound(`Order ${input.orderId} refers to a missing plan or user`)
      let finished: OrderContext['finished'] = null
      if (['delivered', 'failed', 'cancelled', 'refunded'].includes(order.status)) {
        const account = order.accountId ? await getAccount(db, order.accountId) : undefined
        finished = { status: order.status, accountId: order.accountId, subscriptionUrl: account?.subscriptionUrl ?? null, failureReason: order.failureReason }
      }
      return {
        order: {
          id: order.id,
          userId: order.userId,
          planId: order.planId,
          locationId: order.locationId,
          kind: order.kind,
          accountId: order.accountId,
          payMethod: order.payMethod,
          price: String(order.price),
          status: order.status,
        },
        plan: { id: plan.id, name: plan.nameEn, days: plan.days, dataLimitBytes: String(plan.dataLimitBytes) },
        buyer: { role: buyer.role, username: buyer.username },
        config: { provisionDeadlineMs: deps.env.PROVISION_DEADLINE, awaitPaymentMs: deps.env.PAYMENT_EXPIRY },
        finished,
      }
    },

    /** Stores the order's coarse state (when given) and publishes the live status for the web page. */
    async recordOrderStep(input: { workflowId: string; status: OrderStatus; rowStatus?: OrderRowStatus; failureReason?: string | null }): Promise<void> {
      // A failure reason may quote a panel's answer: stored as storable text, never refused after the panel was changed.
      const failureReason = input.failureReason == null ? input.failureReason : storableText(input.failureReason)
      if (input.rowStatus) await setOrderStatus(db, input.status.orderId, input.rowStatus, { failureReason })
      await publish(deps, input.workflowId, input.status)
    },

    async debitOrderWallet(input: { orderId: number; userId: number; amount: string; idempotencyKey: string }): Promise<LedgerResultJson> {
      return moveMoney(deps, () => debitOrder(db, { userId: input.userId, amount: input.amount, orderId: input.orderId, idempotencyKey: input.idempotencyKey, note: `order #${input.orderId}` }))
    },

    async refundOrderWallet(input: { orderId: number; userId: number; amount: string; idempotencyKey: string; note: string }): Promise<LedgerResultJson> {
      return moveMoney(deps, () => refundOrder(db, { userId: input.userId, amount: input.amount, orderId: input.orderId, idempotencyKey: input.idempotencyKey, note: storableText(input.note).slice(0, 300) }))
    },

    async choosePanel(input: { locationId: number }): Promise<PanelRef> {
      return asActivity(() => deps.panels.select(input.locationId))
    },

    /** Creates the order's panel user. The name comes from the order id, so a retry finds its own earlier attempt. */
    async createPanelAccount(input: { orderId: number; panelId: number; expiresAt: number; dataLimitBytes: string }): Promise<CreatedPanelAccount> {
      const adapter = await deps.panels.adapter(input.panelId)
      const account = await withHeartbeat(() =>
        asActivity(() =>
          adapter.createAccount({
          username: username(input.orderId),
          owner: ownerMarker(input.orderId),
          expiresAt: new Date(input.expiresAt),
          dataLimitBytes: Number(input.dataLimitBytes),
            note: `order #${input.orderId}`,
          }),
        ),
      )
      return {
        panelId: input.panelId,
        username: account.username,
        subscriptionUrl: account.subscriptionUrl,
        expiresAt: account.expiresAt?.toISOString() ?? null,
        dataLimitBytes: String(account.dataLimitBytes),
      }
    },

    /** Removes the order's panel user if it exists and is ours; a user that is already gone counts as done. */
    async deletePanelAccount(input: { orderId: number; panelId: number }): Promise<void> {
      const adapter = await deps.panels.adapter(input.panelId)
      await withHeartbeat(() => asActivity(() => adapter.delete(username(input.orderId), { owner: ownerMarker(input.orderId) })))
    },

    /** The account's current terms, read from its panel (so carry-over counts the latest usage). */
    async readAccountTerms(input: { accountId: number }): Promise<AccountTermsSnapshot> {
      const account = await getAccount(db, input.accountId)
      if (!account || account.status === 'deleted') throw notFound(`Account ${input.accountId} does not exist or was deleted`)
      const adapter = await deps.panels.adapter(account.panelId)
      const onPanel = await withHeartbeat(() => asActivity(() => adapter.getAccount(account.panelUsername)))
      if (!onPanel) {
        throw ApplicationFailure.create({ type: 'NOT_FOUND', message: `Account ${account.panelUsername} is missing on its panel`, nonRetryable: true })
      }
      return {
        accountId: account.id,
        panelId: account.panelId,
        username: account.panelUsername,
        expiresAt: onPanel.expiresAt?.getTime() ?? null,
        dataLimitBytes: String(onPanel.dataLimitBytes),
        dataUsedBytes: String(onPanel.usedBytes),
        status: onPanel.status,
      }
    },

    /** Sets absolute terms on the panel (idempotent), and brings back an account that had expired or run out. */
    async applyAccountTerms(input: { accountId: number; expiresAt: number | null; dataLimitBytes: string }): Promise<{ status: string }> {
      const account = await getAccount(db, input.accountId)
      if (!account) throw notFound(`Account ${input.accountId} does not exist`)
      const adapter = await deps.panels.adapter(account.panelId)
      let onPanel = await withHeartbeat(() =>
        asActivity(() =>
          adapter.extend({
            username: account.panelUsername,
            newExpiresAt: input.expiresAt === null ? null : new Date(input.expiresAt),
            newDataLimitBytes: Number(input.dataLimitBytes),
          }),
        ),
      )
      // Only accounts that ran out come back; one disabled by an admin or by the 24-hour rule stays disabled.
      const keepDisabled = account.status === 'disabled' && account.disabledReason !== 'expired' && account.disabledReason !== 'limited'
      if (!keepDisabled && onPanel.status !== 'active') onPanel = await withHeartbeat(() => asActivity(() => adapter.enable(account.panelUsername)))
      return { status: onPanel.status }
    },

    /** Stores the delivered account (once per order) and marks the order delivered. */
    async deliverOrder(input: {
      workflowId: string
      orderId: number
      status: OrderStatus
      created?: CreatedPanelAccount
      renewal?: { accountId: number; expiresAt: number | null; dataLimitBytes: string }
    }): Promise<{ accountId: number; subscriptionUrl: string | null; expiresAt: string | null }> {
      const order = await getOrder(db, input.orderId)
      if (!order) throw notFound(`Order ${input.orderId} does not exist`)
      const result = await db.transaction(async (trx) => {
        if (input.created) {
          const c = input.created
          const account = await insertAccountOnce(trx, {
            userId: order.userId,
            orderId: order.id,
            planId: order.planId,
            panelId: c.panelId,
            panelUsername: c.username,
            subscriptionUrl: c.subscriptionUrl,
            expiresAt: c.expiresAt ? new Date(c.expiresAt) : null,
            dataLimitBytes: BigInt(c.dataLimitBytes),
          })
          await setOrderStatus(trx, order.id, 'delivered', { accountId: account.id, failureReason: null })
          return { accountId: account.id, subscriptionUrl: account.subscriptionUrl, expiresAt: account.expiresAt?.toISOString() ?? null }
        }
        if (!input.renewal) throw new Error('deliverOrder needs either a created account or a renewal')
        const r = input.renewal
        const expiresAt = r.expiresAt === null ? null : new Date(r.expiresAt)
        await setAccountTerms(trx, r.accountId, { expiresAt, dataLimitBytes: BigInt(r.dataLimitBytes), planId: order.planId })
        await setOrderStatus(trx, order.id, 'delivered', { accountId: r.accountId, failureReason: null })
        const account = await getAccount(trx, r.accountId)
        return { accountId: r.accountId, subscriptionUrl: account?.subscriptionUrl ?? null, expiresAt: expiresAt?.toISOString() ?? null }
      })
      await publish(deps, input.workflowId, { ...input.status, step: 'delivered', accountId: result.accountId, subscriptionUrl: result.subscriptionUrl })
      return result
    },

    /** The pending payment an order waits on, if one was submitted. */
    async findOrderPayment(input: { orderId: number }): Promise<{ paymentId: number } | null> {
      const payment = await pendingPaymentOfOrder(db, input.orderId)
      return payment ? { paymentId: payment.id } : null
    },
  }
}
