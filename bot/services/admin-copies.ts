import path from 'node:path'
import { GrammyError, InlineKeyboard, InputFile, type Api } from 'grammy'
import { adminChatIds, claimNotification, markNotificationSent } from '#db/notifications.ts'
import { getPaymentView, listAdminCopies, payerLabel, recordReceiptMessage, userLabel, type PaymentView } from '#db/telegram.ts'
import type { BotDeps } from '../context.ts'
import { lines, type Html } from '../i18n/html.ts'
import { getMessages, type Messages } from '../i18n/index.ts'
import { getErrorMessage } from '../logger.ts'

/** The buttons the payment workflow's notifications carry too (activities/notification-texts.ts). */
export function decisionKeyboard(t: Messages, paymentId: number): InlineKeyboard {
  return new InlineKeyboard().text(t.btnApprove, `pay:approve:${paymentId}`).text(t.btnReject, `pay:reject:${paymentId}`)
}

export function receiptSummary(t: Messages, p: PaymentView, locale: 'fa' | 'en'): Html {
  return t.receiptCaption({
    paymentId: p.id,
    payer: payerLabel(p),
    payerRole: p.payerRole,
    amount: p.amount,
    method: locale === 'fa' ? p.methodFa : p.methodEn,
    orderId: p.orderId,
    at: new Date(p.createdAt),
  })
}

/** The key under which the payment workflow records its "new receipt" message to a chat (see workflows/payment). */
const submittedKey = (paymentId: number, chatId: string) => `payment-${paymentId}:submitted:chat:${chatId}`

/**
 * Sends a receipt that came in through Telegram to every admin chat, with the photo (or PDF) itself, who paid, how
 * much, by which method, and Approve / Reject. The file is sent by Telegram's file id, so nothing is uploaded.
 * When the bot gets there before the payment workflow, its copy stands in for the workflow's text notice (the
 * workflow finds the notice already sent); otherwise the admins get both, and either one's buttons work.
 */
export async function sendReceiptToAdmins(deps: BotDeps, api: Api, input: { paymentId: number; fileId: string; kind: 'photo' | 'document' }): Promise<number> {
  const payment = await getPaymentView(deps.db, input.paymentId)
  if (!payment) return 0
  const locale = deps.env.DEFAULT_LOCALE
  const { t } = getMessages(locale, deps.env.CURRENCY)
  const caption = receiptSummary(t, payment, locale).value
  let sent = 0
  for (const chatId of await adminChatIds(deps.db, deps.env.TELEGRAM_ADMIN_CHAT_IDS)) {
    const key = submittedKey(payment.id, chatId)
    const claim = await claimNotification(deps.db, { key, kind: 'payment_submitted', chatId })
    try {
      const options = { caption, parse_mode: 'HTML' as const, reply_markup: decisionKeyboard(t, payment.id) }
      const message = input.kind === 'photo' ? await api.sendPhoto(chatId, input.fileId, options) : await api.sendDocument(chatId, input.fileId, options)
      await recordReceiptMessage(deps.db, { paymentId: payment.id, chatId, messageId: message.message_id, kind: input.kind })
      if (claim.send && claim.attempts === 1) await markNotificationSent(deps.db, key, message.message_id)
      sent++
    } catch (error) {
      // The workflow's notice still reaches this chat: the claim stays unfinished, so the workflow sends it.
      deps.logger.warn('receipt-to-admins-failed', { paymentId: payment.id, chatId, error: getErrorMessage(error) })
    }
  }
  return sent
}

/** Sends a stored receipt file (from the web or Telegram) to one chat, for /pending. */
export async function sendStoredReceipt(deps: BotDeps, api: Api, chatId: number, payment: PaymentView, t: Messages, locale: 'fa' | 'en'): Promise<void> {
  const caption = receiptSummary(t, payment, locale).value
  const options = { caption, parse_mode: 'HTML' as const, reply_markup: decisionKeyboard(t, payment.id) }
  let message: { message_id: number } | undefined
  let kind: 'photo' | 'document' | 'text' = 'text'
  if (payment.receiptPath) {
    const file = new InputFile(path.join(deps.env.UPLOAD_DIR, payment.receiptPath))
    try {
      if (payment.receiptMime?.startsWith('image/') && payment.receiptMime !== 'image/webp') {
        message = await api.sendPhoto(chatId, file, options)
        kind = 'photo'
      } else {
        message = await api.sendDocument(chatId, file, options)
        kind = 'document'
      }
    } catch (error) {
      deps.logger.warn('stored-receipt-send-failed', { paymentId: payment.id, error: getErrorMessage(error) })
    }
  }
  if (!message) {
    message = await api.sendMessage(chatId, caption, { parse_mode: 'HTML', reply_markup: decisionKeyboard(t, payment.id) })
    kind = 'text'
  }
  await recordReceiptMessage(deps.db, { paymentId: payment.id, chatId: String(chatId), messageId: message.message_id, kind })
}

export interface DecisionFacts {
  status: 'APPROVED' | 'REJECTED' | 'EXPIRED'
  decidedBy: number | null
  decidedAt: Date | null
  note: string | null
}

/**
 * After a decision, every admin copy of the payment shows who decided and when, and loses its buttons, so nobody
 * is invited to press again. `decision` is the workflow's own status, which is ahead of the stored row.
 */
export async function refreshAdminCopies(deps: BotDeps, api: Api, paymentId: number, decision?: DecisionFacts): Promise<void> {
  const payment = await getPaymentView(deps.db, paymentId)
  if (!payment) return
  const facts: DecisionFacts | undefined =
    decision ??
    (payment.status === 'PENDING'
      ? undefined
      : { status: payment.status, decidedBy: payment.decidedBy, decidedAt: payment.decidedAt ? new Date(payment.decidedAt) : null, note: payment.note })
  if (!facts) return
  const locale = deps.env.DEFAULT_LOCALE
  const { t } = getMessages(locale, deps.env.CURRENCY)
  const by = facts.decidedBy ? await userLabel(deps.db, facts.decidedBy) : null
  const text = lines(receiptSummary(t, payment, locale), '', t.decisionLine(facts.status, by, facts.decidedAt, facts.note)).value
  for (const copy of await listAdminCopies(deps.db, paymentId)) {
    try {
      if (copy.kind === 'text') await api.editMessageText(copy.chatId, copy.messageId, text, { parse_mode: 'HTML' })
      else await api.editMessageCaption(copy.chatId, copy.messageId, { caption: text, parse_mode: 'HTML' })
    } catch (error) {
      if (error instanceof GrammyError && /not modified|not found|can't be edited/i.test(error.description)) continue
      deps.logger.warn('admin-copy-edit-failed', { paymentId, chatId: copy.chatId, error: getErrorMessage(error) })
    }
  }
}
