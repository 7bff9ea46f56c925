import type { AccountStatus, DisabledReason, Role } from '#db/models.ts'
import type { OrderStep } from '#temporal/messages.ts'
import type { Format } from './format.ts'
import { html, lines, type Html } from './html.ts'

/** Facts the texts show; the features gather them, the dictionaries word them. */
export interface PlanFacts {
  name: string
  days: number
  dataLimitBytes: string
  price: string
}

export interface AccountFacts {
  id: number
  username: string
  status: AccountStatus
  disabledReason: DisabledReason | null
  location: string
  plan: string
  usedBytes: string
  limitBytes: string
  expiresAt: Date | null
  daysLeft: number | null
  link: string | null
}

export interface ReceiptFacts {
  paymentId: number
  payer: string
  payerRole: Role
  amount: string
  method: string
  orderId: number | null
  at: Date
}

export interface CardFacts {
  method: string
  cardNumber: string | null
  holder: string | null
  bank: string | null
  /** For methods without a card (SHEBA, CRYPTO): the account, IBAN or address to pay to. */
  destination: string | null
  amount: string
  orderId: number | null
}

export interface LedgerLine {
  type: string
  confirmedDelta: string
  pendingDelta: string
  note: string | null
  at: Date
}

export type LinkFailure = 'invalid' | 'expired' | 'used' | 'disabled' | 'telegram_in_use'
export type Audience = 'all' | 'customers' | 'agents'
export type DecisionStatus = 'APPROVED' | 'REJECTED' | 'EXPIRED'

export function en(f: Format) {
  const roleName = (role: Role) => ({ admin: 'admin', agent: 'reseller', customer: 'customer' })[role]
  const statusName = (status: AccountStatus) =>
    ({ active: '🟢 active', disabled: '⛔️ disabled', limited: '🟠 traffic used up', expired: '⚪️ expired', deleted: '🗑 deleted' })[status]
  const reasonName = (reason: DisabledReason) =>
    ({ negative_credit: 'the reseller credit is negative', admin: 'by an admin', expired: 'expired', limited: 'traffic used up' })[reason]
  const traffic = (limit: string) => (BigInt(limit) === 0n ? 'unlimited traffic' : `${f.gb(limit)} GB`)
  const decisionWord = (s: DecisionStatus) => ({ APPROVED: 'approved', REJECTED: 'rejected', EXPIRED: 'expired' })[s]
  const audienceName = (a: Audience) => ({ all: 'everyone', customers: 'all customers', agents: 'all resellers' })[a]

  return {
    // ---- buttons (plain text) ----
    btnBuy: '🛒 Buy an account',
    btnAccounts: '📱 My accounts',
    btnWallet: '👛 Wallet',
    btnLanguage: '🌐 زبان / Language',
    btnHelp: '❓ Help',
    btnMenu: '🏠 Menu',
    btnBack: '⬅️ Back',
    btnCancel: '✖️ Cancel',
    btnLangFa: '🇮🇷 فارسی',
    btnLangEn: '🇬🇧 English',
    btnLocation: (name: string) => `📍 ${name}`,
    btnPlan: (name: string, price: string) => `${name} · ${f.money(price)}`,
    btnPayWallet: (spendable: string) => `👛 Pay from wallet (${f.money(spendable)} available)`,
    btnPayMethod: (title: string) => `🧾 ${title} (receipt)`,
    btnResendReceipt: '🧾 Send a new receipt',
    btnAccount: (username: string, status: AccountStatus) => `${statusName(status).split(' ')[0]} ${username}`,
    btnShowLink: '🔳 Link & QR',
    btnRenew: '🔄 Renew',
    btnDelete: '🗑 Delete & refund',
    btnConfirmDelete: '✅ Yes, delete it',
    btnHistory: '📜 History',
    btnTopup: '➕ Top up',
    btnOlder: '⏪ Older',
    btnApprove: '✅ Approve',
    btnReject: '❌ Reject',
    btnAudience: (a: Audience) => ({ all: '👥 Everyone', customers: '🙂 Customers', agents: '🏪 Resellers' })[a],
    btnSendBroadcast: '📣 Send now',

    // ---- general ----
    welcomeNew: (name: string) =>
      lines(html`👋 Welcome, ${name}!`, html`Your account is ready. Buy a VPN account, manage the ones you have and your wallet from the menu below.`, html`Already have an account on the website? Send <code>/link CODE</code> with the code from your profile page.`),
    welcomeBack: (name: string, role: Role) => html`👋 Welcome back, ${name} (${roleName(role)}). What would you like to do?`,
    menu: html`What would you like to do?`,
    help: (isAdmin: boolean) =>
      lines(
        html`<b>Commands</b>`,
        html`/buy – buy a new account`,
        html`/accounts – your accounts: usage, link, renew, delete`,
        html`/wallet – balance, history, top up`,
        html`/topup – top up the wallet with a receipt`,
        html`/link CODE – link this Telegram to your web account`,
        html`/language – فارسی / English`,
        html`/cancel – stop what you are doing`,
        html`/help – this list`,
        isAdmin && html`\n<b>Admin</b>\n/pending – receipts waiting for a decision\n/broadcast – message customers or resellers`,
      ),
    unknown: html`I did not understand that. Use the menu below, or /help for the commands.`,
    rateLimited: html`⏳ Too many messages. Please wait a few seconds and try again.`,
    rateLimitedShort: '⏳ Too fast, wait a moment',
    error: html`⚠️ Something went wrong on our side. Please try again in a moment.`,
    serviceUnavailable: html`⚠️ The service is busy right now. Please try again in a minute.`,
    needStart: html`Please send /start first.`,
    userDisabled: html`⛔️ Your account is disabled. Please contact support.`,
    cancelled: html`Cancelled.`,
    nothingToCancel: html`There is nothing to cancel.`,
    staleButton: 'This button has expired; open the menu again',
    privateOnly: html`Please use this in a private chat with the bot.`,

    // ---- language ----
    chooseLanguage: html`Choose your language / زبان خود را انتخاب کنید`,
    languageSaved: html`✅ Language set to English.`,

    // ---- linking ----
    linkAsk: html`Send the 8-character code shown on your profile page of the website, e.g. <code>/link ABCD-EFGH</code>.`,
    linkOk: (username: string, role: Role) => html`✅ This Telegram account is now linked to <b>${username}</b> (${roleName(role)}).`,
    linkAlready: (username: string) => html`This Telegram account is already linked to <b>${username}</b>.`,
    linkFailed: (reason: LinkFailure) =>
      ({
        invalid: html`❌ That code is not valid. Check it on your profile page and try again.`,
        expired: html`⌛️ That code has expired. Make a new one on your profile page.`,
        used: html`❌ That code was already used. Make a new one on your profile page.`,
        disabled: html`⛔️ That web account is disabled.`,
        telegram_in_use: html`❌ This Telegram account already has orders or payments of its own, so it cannot be moved to another account. Please contact support.`,
      })[reason],

    // ---- buying ----
    buyChooseLocation: html`🛒 <b>Buy</b>\nChoose a location:`,
    buyNoLocations: html`Nothing is on sale right now. Please check again later.`,
    buyChoosePlan: (location: string) => html`📍 ${location}\nChoose a plan:`,
    buyNoPlans: (location: string) => html`No plan is on sale in ${location} right now.`,
    buyPlanSummary: (plan: PlanFacts, location: string) =>
      lines(
        html`<b>${plan.name}</b> · 📍 ${location}`,
        html`⏳ ${f.number(plan.days)} days · 📶 ${traffic(plan.dataLimitBytes)}`,
        html`💰 Price: <b>${f.money(plan.price)}</b>`,
        html`\nHow do you want to pay?`,
      ),
    buyNoPaymentMethods: html`No payment method is available right now; please top up later or contact support.`,
    orderPlaced: (orderId: number) => html`🧾 Order #${orderId} placed.`,
    orderCancelled: (orderId: number) => html`✖️ Order #${orderId} was cancelled; nothing was charged.`,
    orderUnderReview: (orderId: number) => html`🧾 The receipt of order #${orderId} is being checked, so the order can no longer be cancelled here.`,
    orderCancelledRefunded: (orderId: number, refunded: string) => html`✖️ Order #${orderId} was cancelled; ${f.money(refunded)} went back to your wallet.`,
    orderCancelling: (orderId: number) => html`✖️ Order #${orderId} is being cancelled; anything paid goes back to your wallet.`,
    orderCancelTooLate: (orderId: number, state: 'delivered' | 'refunded' | 'failed') =>
      html`Too late to cancel order #${orderId}: it ${({ delivered: 'has been delivered', refunded: 'has been refunded', failed: 'has already failed' })[state]}.`,
    orderCancelNoAnswer: (orderId: number) => html`⏳ Order #${orderId} did not answer in time, so it is not confirmed as cancelled. Look at your orders before trying again.`,
    cardInstructions: (c: CardFacts) =>
      lines(
        c.orderId !== null ? html`🧾 <b>Order #${c.orderId}</b> – pay by ${c.method}` : html`➕ <b>Top up</b> – pay by ${c.method}`,
        html`\nTransfer <b>exactly ${f.money(c.amount)}</b>`,
        c.cardNumber && html`💳 Card number: <code>${c.cardNumber}</code>`,
        c.destination && html`🏦 To: <code>${c.destination}</code>`,
        c.holder && html`👤 Holder: <b>${c.holder}</b>`,
        c.bank && html`🏛 Bank: ${c.bank}`,
        html`\nThen send the receipt here as a <b>photo</b> or a <b>PDF</b> file.`,
      ),
    receiptTextRefused: html`📎 Please send the receipt as a photo or a PDF file. Text cannot be accepted as a receipt. (/cancel to stop)`,
    receiptBadType: html`❌ The receipt must be a photo (JPEG, PNG, WebP) or a PDF file.`,
    receiptTooBig: (maxKb: number) => html`❌ The file is too large; the most allowed is ${f.number(maxKb)} KB.`,
    receiptDownloadFailed: html`⚠️ The file could not be fetched from Telegram. Please send it again.`,
    receiptSubmitted: (paymentId: number) => html`✅ Receipt received (payment #${paymentId}). An admin will check it soon; you will be told here.`,
    paymentRefused: (code: string, fallback: string) =>
      ({
        DUPLICATE_RECEIPT: html`❌ This receipt was already submitted.`,
        DAILY_COUNT_LIMIT: html`❌ This payment method has reached its limit for today. Please choose another one or try tomorrow.`,
        DAILY_AMOUNT_LIMIT: html`❌ This payment method has reached its amount limit for today. Please choose another one or try tomorrow.`,
        METHOD_INACTIVE: html`❌ This payment method is not accepting payments now.`,
        ORDER_NOT_PAYABLE: html`❌ This order is not waiting for a payment any more.`,
        AMOUNT_TOO_LOW: html`❌ The amount does not cover the order.`,
        RECEIPT_INVALID: html`❌ The receipt must be a photo (JPEG, PNG, WebP) or a PDF file.`,
      })[code] ?? html`❌ ${fallback}`,
    orderRefused: (code: string, fallback: string) =>
      ({
        INSUFFICIENT_CREDIT: html`❌ Not enough credit in your wallet for this plan. Top up or pay by receipt.`,
        NEGATIVE_CREDIT: html`❌ New orders are blocked while your credit is negative. Please top up first.`,
        PLAN_INACTIVE: html`❌ This plan is no longer on sale.`,
        PLAN_NOT_FOUND: html`❌ This plan is no longer on sale.`,
        LOCATION_NOT_ALLOWED: html`❌ This plan is not sold in that location.`,
        MAX_ACCOUNTS_REACHED: html`❌ You have reached the most active accounts your reseller profile allows.`,
        IDEMPOTENCY_KEY_REUSED: html`❌ These buttons were already used for another order. Open the menu again to place a new one.`,
        USER_DISABLED: html`⛔️ Your account is disabled.`,
        ACCOUNT_NOT_FOUND: html`❌ That account is not one of yours.`,
      })[code] ?? html`❌ ${fallback}`,
    progress: (orderId: number, step: OrderStep, extra: { attempt: number; lastError: string | null }) => {
      const head = html`🧾 <b>Order #${orderId}</b>`
      const body = {
        queued: html`⏳ Received, starting…`,
        awaiting_payment: html`⏳ Waiting for an admin to check your receipt…`,
        paying: html`💳 Taking the payment…`,
        provisioning: extra.attempt > 1 ? html`⚙️ Creating your account (attempt ${f.number(extra.attempt)})…` : html`⚙️ Creating your account…`,
        delivering: html`📦 Almost ready…`,
        delivered: html`✅ Delivered!`,
        compensating: html`↩️ It could not be finished; undoing and refunding…`,
        refunded: html`↩️ Could not be finished; the payment was returned to your wallet.`,
        failed: html`❌ The order could not be completed.`,
        cancelled: html`✖️ The order was cancelled.`,
      }[step]
      return lines(head, body)
    },
    receiptRejected: (orderId: number, note: string | null) =>
      lines(html`🧾 <b>Order #${orderId}</b>`, html`❌ Your receipt was rejected.`, note && html`Reason: ${note}`, html`You can send a new receipt for the same order.`),
    receiptExpired: (orderId: number) => lines(html`🧾 <b>Order #${orderId}</b>`, html`⌛️ Your receipt was not reviewed in time. You can send a new receipt for the same order.`),
    delivered: (username: string, link: string | null) =>
      lines(
        html`✅ <b>Your account ${username} is ready.</b>`,
        link && html`\n🔗 Subscription link:\n<code>${link}</code>`,
        html`\n<b>How to connect</b>`,
        html`1. Install v2rayNG (Android), Streisand or V2Box (iPhone), or Hiddify / v2rayN (computer).`,
        html`2. Copy the link above (or scan the QR code) and add it as a subscription in the app.`,
        html`3. Update the subscription and connect.`,
      ),

    // ---- accounts ----
    accountsEmpty: html`You have no accounts yet. Tap “Buy an account” to get one.`,
    accountsTitle: (count: number) => html`📱 <b>Your accounts</b> (${f.number(count)})\nChoose one:`,
    accountCard: (a: AccountFacts) =>
      lines(
        html`📱 <b>${a.username}</b> · ${a.plan}`,
        html`📍 ${a.location}`,
        html`Status: ${statusName(a.status)}${a.status === 'disabled' && a.disabledReason ? ` (${reasonName(a.disabledReason)})` : ''}`,
        BigInt(a.limitBytes) === 0n
          ? html`📶 Used ${f.gb(a.usedBytes)} GB of unlimited`
          : html`📶 Used ${f.gb(a.usedBytes)} GB of ${f.gb(a.limitBytes)} GB`,
        a.expiresAt
          ? html`⏳ ${a.daysLeft !== null && a.daysLeft > 0 ? `${f.number(a.daysLeft)} days left` : 'expired'} (until ${f.date(a.expiresAt)})`
          : html`⏳ No expiry`,
      ),
    accountNotFound: html`That account was not found.`,
    accountNoLink: html`This account has no subscription link yet.`,
    qrCaption: (username: string, link: string) => html`🔳 <b>${username}</b>\n<code>${link}</code>`,
    renewChoosePlan: (username: string) => html`🔄 Renew <b>${username}</b>\nRemaining days and traffic are kept and the new plan is added on top. Choose a plan:`,
    renewSummary: (username: string, plan: PlanFacts) =>
      lines(
        html`🔄 Renew <b>${username}</b> with <b>${plan.name}</b>`,
        html`+${f.number(plan.days)} days · +${traffic(plan.dataLimitBytes)} (carried over on top of what is left)`,
        html`💰 Price: <b>${f.money(plan.price)}</b>`,
        html`\nHow do you want to pay?`,
      ),
    renewNotPossible: html`This account cannot be renewed (it is deleted).`,
    deleteQuote: (username: string, amount: string) =>
      lines(
        html`🗑 Delete <b>${username}</b>?`,
        BigInt(amount) > 0n ? html`You get back <b>${f.money(amount)}</b> to your wallet (prorated by unused days and traffic).` : html`Nothing is left to refund for this account.`,
        html`The account stops working at once. This cannot be undone.`,
      ),
    deleteNotAllowed: html`⛔️ Your reseller profile does not allow deleting accounts for a refund. Please contact support.`,
    deleteStarted: (username: string) => html`🗑 Deleting <b>${username}</b>…`,
    deleteDone: (username: string, amount: string) => html`✅ <b>${username}</b> was deleted. ${f.money(amount)} returned to your wallet.`,
    deleteFailed: (username: string) => html`⚠️ <b>${username}</b> could not be deleted yet; it will be retried and nothing is refunded until it is gone.`,
    deleteInProgress: (username: string) => html`🗑 <b>${username}</b> is being deleted; the refund follows when the panel confirms.`,

    // ---- wallet ----
    walletSummary: (w: { confirmed: string; pending: string; usable: string; spendable: string; role: Role; negativeSince: Date | null; deadline: Date | null }) =>
      lines(
        html`👛 <b>Wallet</b>`,
        html`Confirmed: <b>${f.money(w.confirmed)}</b>`,
        html`Pending review: ${f.money(w.pending)}`,
        w.role === 'agent' ? html`Usable credit: <b>${f.money(w.usable)}</b>` : html`Available to spend: <b>${f.money(w.spendable)}</b>`,
        w.negativeSince &&
          html`\n⚠️ Your credit has been negative since ${f.dateTime(w.negativeSince)}. New orders are blocked${w.deadline ? `, and if it is still negative at ${f.dateTime(w.deadline)} your accounts are disabled until you top up` : ''}.`,
      ),
    historyTitle: html`📜 <b>Wallet history</b>`,
    historyEmpty: html`No transactions yet.`,
    historyLine: (e: LedgerLine) => {
      const names: Record<string, string> = {
        CHARGE_PENDING: 'Receipt submitted',
        CHARGE_APPROVED: 'Receipt approved',
        CHARGE_REJECTED: 'Receipt rejected',
        CHARGE_EXPIRED: 'Receipt expired',
        CHARGE_MANUAL: 'Adjustment',
        ORDER_DEBIT: 'Order',
        ORDER_REFUND: 'Refund',
      }
      const delta = BigInt(e.confirmedDelta) !== 0n ? BigInt(e.confirmedDelta) : BigInt(e.pendingDelta)
      const sign = delta > 0n ? '+' : ''
      const pending = BigInt(e.confirmedDelta) === 0n && BigInt(e.pendingDelta) !== 0n ? ' (pending)' : ''
      return html`${f.dateTime(e.at)} · ${names[e.type] ?? e.type}: ${sign}${f.money(delta)}${pending}${e.note ? ` – ${e.note}` : ''}`
    },
    topupChooseMethod: html`➕ <b>Top up</b>\nChoose how you will pay:`,
    topupNoMethods: html`No payment method is available right now. Please try later.`,
    topupAskAmount: (method: string) => html`➕ Top up by ${method}\nHow much? Send the amount as a number, e.g. <code>500000</code>.`,
    topupAmountInvalid: html`❌ Send the amount as a whole number greater than zero, e.g. <code>500000</code>.`,

    // ---- admins ----
    notAdmin: 'Only admins can do this',
    notAdminText: html`⛔️ Only admins can do this.`,
    receiptCaption: (r: ReceiptFacts) =>
      lines(
        html`🧾 <b>Payment #${r.paymentId}</b>`,
        html`👤 ${r.payer} (${roleName(r.payerRole)})`,
        html`💰 ${f.money(r.amount)}`,
        html`💳 ${r.method}`,
        r.orderId !== null ? html`🛒 For order #${r.orderId}` : html`➕ Wallet top-up`,
        html`🕒 ${f.dateTime(r.at)}`,
      ),
    decisionLine: (status: DecisionStatus, by: string | null, at: Date | null, note: string | null) =>
      lines(
        status === 'EXPIRED'
          ? html`⌛️ Expired without a decision${at ? ` at ${f.dateTime(at)}` : ''}`
          : html`${status === 'APPROVED' ? '✅' : '❌'} ${status === 'APPROVED' ? 'Approved' : 'Rejected'} by ${by ?? 'the gateway'}${at ? ` at ${f.dateTime(at)}` : ''}`,
        note && html`Note: ${note}`,
      ),
    decisionDone: (status: DecisionStatus) => `${status === 'APPROVED' ? '✅' : '❌'} Payment ${decisionWord(status)}`,
    decisionAccepted: 'Decision taken; it is being applied',
    decisionNoAnswer: 'The payment workflow did not answer in time, so the decision is not confirmed; look at the payment again before deciding again',
    alreadyDecided: (status: DecisionStatus, by: string | null, at: Date | null) =>
      status === 'EXPIRED'
        ? `Already expired${at ? ` at ${f.dateTime(at)}` : ''}`
        : `Already ${decisionWord(status)} by ${by ?? 'the gateway'}${at ? ` at ${f.dateTime(at)}` : ''}`,
    paymentNotFound: 'That payment does not exist',
    paidOnline: 'This payment is made online; the gateway confirms it, not an admin',
    askRejectReason: (paymentId: number) => html`❌ Rejecting payment #${paymentId}. Send the reason in one message; it is sent to the payer. (/cancel to stop)`,
    rejectReasonInvalid: html`Send the reason as plain text (no control characters), at most 300 characters. (/cancel to stop)`,
    pendingNone: html`No receipt is waiting for a decision.`,
    pendingTitle: (count: number) => html`🧾 <b>${f.number(count)} receipt(s) waiting</b>`,
    broadcastChooseAudience: html`📣 <b>Broadcast</b>\nWho should get it?`,
    broadcastAskText: (a: Audience, count: number) => html`📣 To ${audienceName(a)} (${f.number(count)} people with Telegram).\nSend the message text now. (/cancel to stop)`,
    broadcastTextInvalid: html`Send the message as plain text (no control characters), at most 4000 characters. (/cancel to stop)`,
    broadcastConfirm: (a: Audience, count: number, text: string) => html`📣 Send this to ${audienceName(a)} (${f.number(count)} people)?\n\n${text}`,
    broadcastStarted: (id: number, count: number) => html`📣 Broadcast #${id} started: ${f.number(count)} recipients. You will get a report when it is done.`,
    broadcastReport: (id: number, delivered: number, failed: number, total: number) =>
      html`📣 Broadcast #${id} finished: ${f.number(delivered)} delivered, ${f.number(failed)} failed, of ${f.number(total)}.`,
    broadcastEmpty: html`Nobody in that group has linked Telegram.`,
  }
}

export type Messages = ReturnType<typeof en>
export type { Html }
