import { formatMoney } from '#domain/money.ts'
import type { InlineButton } from './telegram.ts'

/**
 * What flowpanel tells people on Telegram, in their language. Messages are data (a kind and its facts); the text
 * is made here when sending, so a workflow never carries user-facing strings.
 */
export type NotificationMessage =
  | { kind: 'order_delivered'; orderId: number; planName: string; subscriptionUrl: string | null; expiresAt: string | null; renewal: boolean }
  | { kind: 'order_failed'; orderId: number; reason: string; refunded: string }
  | { kind: 'order_cancelled'; orderId: number; refunded: string }
  | { kind: 'payment_submitted'; paymentId: number; amount: string; payer: string; method: string; orderId: number | null }
  | { kind: 'payment_reminder'; paymentId: number; amount: string; payer: string; waitingHours: number }
  | { kind: 'payment_decided'; paymentId: number; outcome: 'APPROVED' | 'REJECTED' | 'EXPIRED'; amount: string; note: string | null; usable: string }
  | { kind: 'refund_done'; accountId: number; username: string; amount: string }
  | { kind: 'credit_accounts_disabled'; agent: string; count: number; usable: string }
  | { kind: 'credit_accounts_restored'; agent: string; count: number }
  | { kind: 'usage_warning'; accountId: number; username: string; warning: 'traffic80' | 'expiry3d'; usedPercent: number; expiresAt: string | null }

export type NotificationKind = NotificationMessage['kind']

export interface RenderedMessage {
  text: string
  buttons?: InlineButton[][]
}

type Locale = 'fa' | 'en'

export function renderNotification(message: NotificationMessage, locale: Locale, currency: string): RenderedMessage {
  const m = (amount: string) => formatMoney(BigInt(amount), { locale, currency })
  const fa = locale === 'fa'
  switch (message.kind) {
    case 'order_delivered': {
      const head = fa
        ? `✅ سفارش #${message.orderId} (${message.planName}) ${message.renewal ? 'تمدید شد' : 'آماده است'}.`
        : `✅ Order #${message.orderId} (${message.planName}) is ${message.renewal ? 'renewed' : 'ready'}.`
      const link = message.subscriptionUrl ? `\n${fa ? 'لینک اشتراک' : 'Subscription link'}: ${message.subscriptionUrl}` : ''
      const until = message.expiresAt ? `\n${fa ? 'اعتبار تا' : 'Valid until'}: ${message.expiresAt.slice(0, 10)}` : ''
      return { text: head + link + until }
    }
    case 'order_failed':
      return {
        text: fa
          ? `❌ سفارش #${message.orderId} انجام نشد: ${message.reason}${message.refunded !== '0' ? `\n${m(message.refunded)} به کیف پول شما برگشت.` : ''}`
          : `❌ Order #${message.orderId} could not be completed: ${message.reason}${message.refunded !== '0' ? `\n${m(message.refunded)} was returned to your wallet.` : ''}`,
      }
    case 'order_cancelled':
      return {
        text: fa
          ? `سفارش #${message.orderId} لغو شد.${message.refunded !== '0' ? ` ${m(message.refunded)} به کیف پول شما برگشت.` : ''}`
          : `Order #${message.orderId} was cancelled.${message.refunded !== '0' ? ` ${m(message.refunded)} was returned to your wallet.` : ''}`,
      }
    case 'payment_submitted':
      return {
        text: fa
          ? `🧾 پرداخت #${message.paymentId}: ${m(message.amount)} از ${message.payer} (${message.method})${message.orderId ? ` برای سفارش #${message.orderId}` : ''}`
          : `🧾 Payment #${message.paymentId}: ${m(message.amount)} from ${message.payer} (${message.method})${message.orderId ? ` for order #${message.orderId}` : ''}`,
        buttons: [paymentButtons(message.paymentId, fa)],
      }
    case 'payment_reminder':
      return {
        text: fa
          ? `⏰ پرداخت #${message.paymentId} (${m(message.amount)} از ${message.payer}) ${message.waitingHours} ساعت است که منتظر بررسی است.`
          : `⏰ Payment #${message.paymentId} (${m(message.amount)} from ${message.payer}) has been waiting ${message.waitingHours} h for review.`,
        buttons: [paymentButtons(message.paymentId, fa)],
      }
    case 'payment_decided': {
      const what = {
        APPROVED: fa ? 'تأیید شد' : 'was approved',
        REJECTED: fa ? 'رد شد' : 'was rejected',
        EXPIRED: fa ? 'بررسی نشد و منقضی شد' : 'expired without a review',
      }[message.outcome]
      const note = message.note ? `\n${fa ? 'توضیح' : 'Note'}: ${message.note}` : ''
      return {
        text: fa
          ? `پرداخت #${message.paymentId} (${m(message.amount)}) ${what}.${note}\nاعتبار قابل استفاده: ${m(message.usable)}`
          : `Payment #${message.paymentId} (${m(message.amount)}) ${what}.${note}\nUsable credit: ${m(message.usable)}`,
      }
    }
    case 'refund_done':
      return {
        text: fa
          ? `اکانت ${message.username} حذف شد و ${m(message.amount)} به کیف پول شما برگشت.`
          : `Account ${message.username} was removed and ${m(message.amount)} returned to your wallet.`,
      }
    case 'credit_accounts_disabled':
      return {
        text: fa
          ? `⛔️ اعتبار ${message.agent} بیش از ۲۴ ساعت منفی (${m(message.usable)}) ماند؛ ${message.count} اکانت غیرفعال شد. با شارژ کیف پول دوباره فعال می‌شوند.`
          : `⛔️ ${message.agent}'s credit stayed negative (${m(message.usable)}) for 24 hours; ${message.count} ${message.count === 1 ? 'account was' : 'accounts were'} disabled. They come back when the wallet is topped up.`,
      }
    case 'credit_accounts_restored':
      return {
        text: fa
          ? `✅ اعتبار ${message.agent} دوباره مثبت است؛ ${message.count} اکانت دوباره فعال شد.`
          : `✅ ${message.agent}'s credit is back; ${message.count} ${message.count === 1 ? 'account was' : 'accounts were'} enabled again.`,
      }
    case 'usage_warning':
      if (message.warning === 'traffic80') {
        return {
          text: fa
            ? `⚠️ ${message.usedPercent}٪ حجم اکانت ${message.username} مصرف شده است.`
            : `⚠️ Account ${message.username} has used ${message.usedPercent}% of its traffic.`,
        }
      }
      return {
        text: fa
          ? `⚠️ اکانت ${message.username} تا سه روز دیگر (${message.expiresAt?.slice(0, 10) ?? ''}) منقضی می‌شود.`
          : `⚠️ Account ${message.username} expires within three days (${message.expiresAt?.slice(0, 10) ?? ''}).`,
      }
  }
}

/** Callback data the bot's admin feature answers: `pay:approve:<id>` / `pay:reject:<id>`. */
function paymentButtons(paymentId: number, fa: boolean): InlineButton[] {
  return [
    { text: fa ? '✅ تأیید' : '✅ Approve', callbackData: `pay:approve:${paymentId}` },
    { text: fa ? '❌ رد' : '❌ Reject', callbackData: `pay:reject:${paymentId}` },
  ]
}
