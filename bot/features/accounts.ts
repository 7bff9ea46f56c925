import { Composer, InlineKeyboard } from 'grammy'
import { previewRefund, RefundRefusedError, requestRefund } from '#db/accounts.ts'
import { getPlan, getUserAccount, listPlansForLocation, listUserAccounts, type AccountView } from '#db/telegram.ts'
import { DAY_MS } from '#domain/pricing.ts'
import type { BotContext } from '../context.ts'
import { logHandle } from '../helpers/log-handle.ts'
import { sendLinkQr } from '../helpers/qr.ts'
import { answer, reply, requireUser, show } from '../helpers/screen.ts'
import { withTemporal } from '../helpers/temporal.ts'
import type { AccountFacts } from '../i18n/en.ts'
import { MENU } from '../keyboards/menu.ts'
import { paymentKeyboard, placeAndPay, planFacts } from './buy.ts'

/** My accounts: usage, days left, link + QR, renew at the buyer's price, delete with a refund quote. */
export const accountsFeature = new Composer<BotContext>()
const privateChat = accountsFeature.chatType('private')

function accountFacts(ctx: BotContext, a: AccountView, now = Date.now()): AccountFacts {
  const expiresAt = a.expiresAt ? new Date(a.expiresAt) : null
  return {
    id: a.id,
    username: a.panelUsername,
    status: a.status,
    disabledReason: a.disabledReason,
    location: ctx.locale === 'fa' ? a.locationFa : a.locationEn,
    plan: ctx.locale === 'fa' ? a.planFa : a.planEn,
    usedBytes: a.dataUsedBytes,
    limitBytes: a.dataLimitBytes,
    expiresAt,
    daysLeft: expiresAt ? Math.max(0, Math.ceil((expiresAt.getTime() - now) / DAY_MS)) : null,
    link: a.subscriptionUrl,
  }
}

async function listAccounts(ctx: BotContext): Promise<void> {
  const user = await requireUser(ctx)
  if (!user) return
  await answer(ctx)
  const accounts = await listUserAccounts(ctx.deps.db, user.id)
  if (accounts.length === 0) return show(ctx, ctx.t.accountsEmpty, new InlineKeyboard().text(ctx.t.btnBuy, MENU.buy).row().text(ctx.t.btnMenu, MENU.home))
  const keyboard = new InlineKeyboard()
  for (const a of accounts) keyboard.text(ctx.t.btnAccount(a.panelUsername, a.status), `acc:s:${a.id}`).row()
  keyboard.text(ctx.t.btnMenu, MENU.home)
  await show(ctx, ctx.t.accountsTitle(accounts.length), keyboard)
}

privateChat.command('accounts', logHandle('command-accounts'), listAccounts)
privateChat.callbackQuery(MENU.accounts, logHandle('menu-accounts'), listAccounts)

/** The account of the button, if it is the presser's and not deleted; otherwise the press is answered. */
async function ownAccount(ctx: BotContext, id: string): Promise<AccountView | undefined> {
  const user = await requireUser(ctx)
  if (!user) return undefined
  const account = await getUserAccount(ctx.deps.db, user.id, Number(id))
  if (!account || account.status === 'deleted') {
    await answer(ctx, ctx.t.accountNotFound.value, true)
    return undefined
  }
  return account
}

privateChat.callbackQuery(/^acc:s:(\d{1,9})$/, logHandle('account-show'), async (ctx) => {
  const account = await ownAccount(ctx, ctx.match[1]!)
  if (!account) return
  await answer(ctx)
  const keyboard = new InlineKeyboard()
    .text(ctx.t.btnShowLink, `acc:q:${account.id}`)
    .row()
    .text(ctx.t.btnRenew, `acc:r:${account.id}`)
    .text(ctx.t.btnDelete, `acc:d:${account.id}`)
    .row()
    .text(ctx.t.btnBack, MENU.accounts)
  await show(ctx, ctx.t.accountCard(accountFacts(ctx, account)), keyboard)
})

privateChat.callbackQuery(/^acc:q:(\d{1,9})$/, logHandle('account-qr'), async (ctx) => {
  const account = await ownAccount(ctx, ctx.match[1]!)
  if (!account) return
  await answer(ctx)
  if (!account.subscriptionUrl) return reply(ctx, ctx.t.accountNoLink)
  await sendLinkQr(ctx.api, ctx.chat.id, account.subscriptionUrl, ctx.t.qrCaption(account.panelUsername, account.subscriptionUrl))
})

privateChat.callbackQuery(/^acc:r:(\d{1,9})$/, logHandle('account-renew'), async (ctx) => {
  const account = await ownAccount(ctx, ctx.match[1]!)
  if (!account) return
  await answer(ctx)
  const plans = await listPlansForLocation(ctx.deps.db, account.locationId)
  const keyboard = new InlineKeyboard()
  for (const plan of plans) {
    const facts = planFacts(ctx, ctx.user!, plan)
    keyboard.text(ctx.t.btnPlan(facts.name, facts.price), `acc:r:${account.id}:${plan.id}`).row()
  }
  keyboard.text(ctx.t.btnBack, `acc:s:${account.id}`)
  await show(ctx, plans.length === 0 ? ctx.t.buyNoPlans(ctx.locale === 'fa' ? account.locationFa : account.locationEn) : ctx.t.renewChoosePlan(account.panelUsername), keyboard)
})

privateChat.callbackQuery(/^acc:r:(\d{1,9}):(\d{1,9})$/, logHandle('account-renew-plan'), async (ctx) => {
  const account = await ownAccount(ctx, ctx.match[1]!)
  if (!account) return
  const plan = await getPlan(ctx.deps.db, Number(ctx.match[2]))
  if (!plan?.active) return answer(ctx, ctx.t.staleButton, true)
  await answer(ctx)
  const prefix = `acc:r:${account.id}:${plan.id}`
  const keyboard = await paymentKeyboard(ctx, ctx.user!, prefix, `acc:r:${account.id}`)
  await show(ctx, ctx.t.renewSummary(account.panelUsername, planFacts(ctx, ctx.user!, plan)), keyboard)
})

privateChat.callbackQuery(/^acc:r:(\d{1,9}):(\d{1,9}):(?:w|c:(\d{1,9}))$/, logHandle('account-renew-pay'), async (ctx) => {
  const account = await ownAccount(ctx, ctx.match[1]!)
  if (!account) return
  await placeAndPay(ctx, ctx.user!, {
    kind: 'renew',
    accountId: account.id,
    planId: Number(ctx.match[2]),
    pay: ctx.match[3] === undefined ? 'wallet' : Number(ctx.match[3]),
  })
})

privateChat.callbackQuery(/^acc:d:(\d{1,9})$/, logHandle('account-delete-quote'), async (ctx) => {
  const account = await ownAccount(ctx, ctx.match[1]!)
  if (!account) return
  let amount: bigint
  try {
    const quote = await previewRefund(ctx.deps.db, { accountId: account.id, requestedBy: ctx.user!.id, policy: ctx.deps.settings.refundPolicy })
    amount = quote.quote.amount
  } catch (error) {
    if (!(error instanceof RefundRefusedError)) throw error
    await answer(ctx)
    return reply(ctx, error.code === 'NOT_ALLOWED' ? ctx.t.deleteNotAllowed : ctx.t.accountNotFound)
  }
  await answer(ctx)
  const keyboard = new InlineKeyboard().text(ctx.t.btnConfirmDelete, `acc:dd:${account.id}`).row().text(ctx.t.btnBack, `acc:s:${account.id}`)
  await show(ctx, ctx.t.deleteQuote(account.panelUsername, amount.toString()), keyboard)
})

privateChat.callbackQuery(/^acc:dd:(\d{1,9})$/, logHandle('account-delete-confirm'), async (ctx) => {
  const account = await ownAccount(ctx, ctx.match[1]!)
  if (!account) return
  await answer(ctx)
  await withTemporal(ctx, async (client) => {
    try {
      await requestRefund(ctx.deps.db, client, { accountId: account.id, requestedBy: ctx.user!.id, reason: 'deleted by the owner in Telegram', policy: ctx.deps.settings.refundPolicy })
    } catch (error) {
      if (!(error instanceof RefundRefusedError)) throw error
      return reply(ctx, error.code === 'NOT_ALLOWED' ? ctx.t.deleteNotAllowed : ctx.t.accountNotFound)
    }
    ctx.deps.logger.info('refund-requested', { userId: ctx.user!.id, accountId: account.id })
    await show(ctx, ctx.t.deleteStarted(account.panelUsername))
    const messageId = ctx.callbackQuery.message?.message_id
    if (messageId !== undefined) {
      ctx.services.progress.followRefund({ accountId: account.id, username: account.panelUsername, chatId: ctx.chat.id, messageId, locale: ctx.locale })
    }
  })
})
