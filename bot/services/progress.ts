import { InlineKeyboard, type Api } from 'grammy'
import type { Locale } from '#db/models.ts'
import { accountOfOrder, getOrderState, latestPaymentOfOrder, type OrderState } from '#db/telegram.ts'
import { orderStatusQuery, refundStatusQuery, type OrderStatus, type OrderStep, type RefundStatus } from '#temporal/messages.ts'
import { orderWorkflowId, refundWorkflowId } from '#temporal/workflow-ids.ts'
import type { BotDeps } from '../context.ts'
import { sendLinkQr } from '../helpers/qr.ts'
import type { Html } from '../i18n/html.ts'
import { getMessages, type Messages } from '../i18n/index.ts'
import { getErrorMessage } from '../logger.ts'

/**
 * Progress messages that follow a workflow: one message per order, edited in place as the order moves, ending
 * with the subscription link and its QR code on delivery, or with a "send a new receipt" button when the receipt
 * was rejected. Followers live in this process only; if it restarts, the workflow's own notifications still tell
 * the person how it ended.
 */
export interface ProgressTracker {
  /** Sends the progress message of an order and keeps it up to date in the background. */
  followOrder(input: { orderId: number; chatId: number; locale: Locale }): Promise<void>
  /** Keeps a "deleting…" message up to date until the refund of the account is done. */
  followRefund(input: { accountId: number; username: string; chatId: number; messageId: number; locale: Locale }): void
  /** Whether this process is following the order (its progress message shows what happens next). */
  isFollowing(orderId: number): boolean
  /** Resolves when every follower has finished (tests). */
  idle(): Promise<void>
  stop(): Promise<void>
}

const ORDER_STEP_OF_ROW: Record<OrderState['status'], OrderStep> = {
  pending: 'queued',
  awaiting_payment: 'awaiting_payment',
  provisioning: 'provisioning',
  delivered: 'delivered',
  failed: 'failed',
  cancelled: 'cancelled',
  refunded: 'refunded',
}
const FINAL_STEPS: OrderStep[] = ['delivered', 'failed', 'cancelled', 'refunded']

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done)
  })
}

export function createProgressTracker(deps: BotDeps, api: Api): ProgressTracker {
  const controller = new AbortController()
  const running = new Set<Promise<void>>()
  /** One follower per order: a second request (a double tap) reuses the first. */
  const orders = new Map<number, Promise<void>>()
  const { logger } = deps

  function spawn(name: string, task: () => Promise<void>): Promise<void> {
    const p = task().catch((error: unknown) => logger.warn('progress-failed', { name, error: getErrorMessage(error) }))
    running.add(p)
    void p.finally(() => running.delete(p))
    return p
  }

  async function liveOrder(orderId: number): Promise<OrderStatus | null> {
    try {
      const client = await deps.temporal.getClient()
      return await client.workflow.getHandle(orderWorkflowId(orderId)).query(orderStatusQuery)
    } catch {
      return null
    }
  }

  async function edit(chatId: number, messageId: number, text: Html, keyboard?: InlineKeyboard): Promise<void> {
    try {
      await api.editMessageText(chatId, messageId, text.value, { parse_mode: 'HTML', reply_markup: keyboard, link_preview_options: { is_disabled: true } })
    } catch (error) {
      if (!/message is not modified/i.test(getErrorMessage(error))) throw error
    }
  }

  async function deliver(t: Messages, chatId: number, order: OrderState): Promise<void> {
    const account = await accountOfOrder(deps.db, order)
    if (!account) return
    const text = t.delivered(account.panelUsername, account.subscriptionUrl)
    if (account.subscriptionUrl) await sendLinkQr(api, chatId, account.subscriptionUrl, text)
    else await api.sendMessage(chatId, text.value, { parse_mode: 'HTML' })
  }

  async function runOrder(orderId: number, chatId: number, locale: Locale): Promise<void> {
    const { t } = getMessages(locale, deps.env.CURRENCY)
    const signal = controller.signal
    const first = await getOrderState(deps.db, orderId)
    if (!first) return
    const live0 = await liveOrder(orderId)
    let step: OrderStep = live0?.step ?? ORDER_STEP_OF_ROW[first.status]
    let shown = t.progress(orderId, step, { attempt: live0?.attempt ?? 0, lastError: null })
    const sent = await api.sendMessage(chatId, shown.value, { parse_mode: 'HTML' })
    let lastChange = Date.now()
    while (!signal.aborted) {
      const row = await getOrderState(deps.db, orderId)
      if (!row) return
      const live = await liveOrder(orderId)
      const rowStep = ORDER_STEP_OF_ROW[row.status]
      // The stored status is final before the workflow's last step ends; trust it for the end states.
      step = FINAL_STEPS.includes(rowStep) ? rowStep : (live?.step ?? rowStep)
      // A refused receipt ends the order (nothing was charged): the message offers to send a new one instead.
      if ((step === 'awaiting_payment' || step === 'failed') && row.payMethod === 'receipt') {
        const payment = await latestPaymentOfOrder(deps.db, orderId)
        if (payment && (payment.status === 'REJECTED' || payment.status === 'EXPIRED')) {
          const text = payment.status === 'REJECTED' ? t.receiptRejected(orderId, payment.note) : t.receiptExpired(orderId)
          await edit(chatId, sent.message_id, text, new InlineKeyboard().text(t.btnResendReceipt, `buy:resend:${orderId}`))
          return
        }
      }
      const text = t.progress(orderId, step, { attempt: live?.attempt ?? 0, lastError: live?.lastError ?? null })
      if (text.value !== shown.value) {
        await edit(chatId, sent.message_id, text)
        shown = text
        lastChange = Date.now()
      }
      if (step === 'delivered') return deliver(t, chatId, row)
      if (FINAL_STEPS.includes(step)) return
      if (Date.now() - lastChange > deps.settings.progressIdleMs) return
      await sleep(deps.settings.progressPollMs, signal)
    }
  }

  async function runRefund(input: { accountId: number; username: string; chatId: number; messageId: number; locale: Locale }): Promise<void> {
    const { t } = getMessages(input.locale, deps.env.CURRENCY)
    const signal = controller.signal
    const started = Date.now()
    let warned = false
    while (!signal.aborted) {
      let status: RefundStatus | null = null
      try {
        const client = await deps.temporal.getClient()
        status = await client.workflow.getHandle(refundWorkflowId(input.accountId)).query(refundStatusQuery)
      } catch {
        status = null
      }
      if (status?.step === 'done') {
        await edit(input.chatId, input.messageId, t.deleteDone(input.username, status.amount ?? '0'))
        return
      }
      if (status?.step === 'failed' || (status?.lastError && !warned)) {
        await edit(input.chatId, input.messageId, status.step === 'failed' ? t.deleteFailed(input.username) : t.deleteInProgress(input.username))
        warned = true
        if (status.step === 'failed') return
      }
      if (Date.now() - started > deps.settings.progressIdleMs) return
      await sleep(deps.settings.progressPollMs, signal)
    }
  }

  return {
    async followOrder({ orderId, chatId, locale }) {
      const existing = orders.get(orderId)
      if (existing) return
      const p = spawn(`order-${orderId}`, () => runOrder(orderId, chatId, locale))
      orders.set(orderId, p)
      void p.finally(() => orders.delete(orderId))
    },
    isFollowing(orderId) {
      return orders.has(orderId)
    },
    followRefund(input) {
      void spawn(`refund-${input.accountId}`, () => runRefund(input))
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running])
    },
    async stop() {
      controller.abort()
      await Promise.allSettled([...running])
    },
  }
}
