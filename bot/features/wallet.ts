import { Composer, InlineKeyboard } from 'grammy'
import { getWallet } from '#db/ledger.ts'
import { getReceiptMethod, listLedgerEntries, listReceiptMethods } from '#db/telegram.ts'
import { InvalidAmountError, parsePositiveMoney } from '#domain/money.ts'
import type { BotContext } from '../context.ts'
import { logHandle } from '../helpers/log-handle.ts'
import { cardFacts, methodTitle } from '../helpers/methods.ts'
import { answer, reply, requireUser, show } from '../helpers/screen.ts'
import { lines } from '../i18n/html.ts'
import { MENU } from '../keyboards/menu.ts'

/** Balance (confirmed / pending), history, and top-up by receipt. */
export const walletFeature = new Composer<BotContext>()
const privateChat = walletFeature.chatType('private')

const HISTORY_PAGE = 10

async function showWallet(ctx: BotContext): Promise<void> {
  const user = await requireUser(ctx)
  if (!user) return
  await answer(ctx)
  const w = await getWallet(ctx.deps.db, user.id)
  const text = ctx.t.walletSummary({
    confirmed: w.confirmed.toString(),
    pending: w.pending.toString(),
    usable: w.usable.toString(),
    spendable: w.spendable.toString(),
    role: w.role,
    negativeSince: w.negativeSince,
    // Only agents sell on credit; the 24-hour rule applies to them.
    deadline: w.negativeSince && w.role === 'agent' ? new Date(new Date(w.negativeSince).getTime() + ctx.deps.env.NEGATIVE_CREDIT_GRACE) : null,
  })
  const keyboard = new InlineKeyboard().text(ctx.t.btnHistory, 'wal:hist').text(ctx.t.btnTopup, 'wal:topup').row().text(ctx.t.btnMenu, MENU.home)
  await show(ctx, text, keyboard)
}

privateChat.command('wallet', logHandle('command-wallet'), showWallet)
privateChat.callbackQuery([MENU.wallet, 'wal:show'], logHandle('menu-wallet'), showWallet)

privateChat.callbackQuery(/^wal:hist(?::(\d{1,18}))?$/, logHandle('wallet-history'), async (ctx) => {
  const user = await requireUser(ctx)
  if (!user) return
  await answer(ctx)
  const entries = await listLedgerEntries(ctx.deps.db, user.id, { beforeId: ctx.match[1], limit: HISTORY_PAGE + 1 })
  const page = entries.slice(0, HISTORY_PAGE)
  const keyboard = new InlineKeyboard()
  if (entries.length > HISTORY_PAGE) keyboard.text(ctx.t.btnOlder, `wal:hist:${page.at(-1)!.id}`)
  keyboard.text(ctx.t.btnBack, 'wal:show')
  const body =
    page.length === 0
      ? ctx.t.historyEmpty
      : lines(...page.map((e) => ctx.t.historyLine({ type: e.type, confirmedDelta: e.confirmedDelta, pendingDelta: e.pendingDelta, note: e.note, at: e.createdAt })))
  await show(ctx, lines(ctx.t.historyTitle, '', body), keyboard)
})

async function chooseTopupMethod(ctx: BotContext): Promise<void> {
  const user = await requireUser(ctx)
  if (!user) return
  await answer(ctx)
  const methods = await listReceiptMethods(ctx.deps.db)
  if (methods.length === 0) return show(ctx, ctx.t.topupNoMethods, new InlineKeyboard().text(ctx.t.btnBack, 'wal:show'))
  const keyboard = new InlineKeyboard()
  for (const m of methods) keyboard.text(methodTitle(ctx, m), `wal:tm:${m.id}`).row()
  keyboard.text(ctx.t.btnBack, 'wal:show')
  await show(ctx, ctx.t.topupChooseMethod, keyboard)
}

privateChat.command('topup', logHandle('command-topup'), chooseTopupMethod)
privateChat.callbackQuery('wal:topup', logHandle('wallet-topup'), chooseTopupMethod)

privateChat.callbackQuery(/^wal:tm:(\d{1,9})$/, logHandle('wallet-topup-method'), async (ctx) => {
  const user = await requireUser(ctx)
  if (!user) return
  const method = await getReceiptMethod(ctx.deps.db, Number(ctx.match[1]))
  if (!method) return answer(ctx, ctx.t.staleButton, true)
  await answer(ctx)
  ctx.session.step = { kind: 'topup_amount', methodId: method.id }
  await show(ctx, ctx.t.topupAskAmount(methodTitle(ctx, method)), new InlineKeyboard().text(ctx.t.btnCancel, MENU.home))
})

/** The amount of a top-up, typed as a number (Persian digits and separators are fine). */
privateChat.on('message', async (ctx, next) => {
  const step = ctx.session.step
  if (step?.kind !== 'topup_amount') return next()
  const user = await requireUser(ctx)
  if (!user) return
  let amount: bigint
  try {
    amount = parsePositiveMoney(ctx.message.text ?? '', 'the amount')
  } catch (error) {
    if (error instanceof InvalidAmountError) return reply(ctx, ctx.t.topupAmountInvalid)
    throw error
  }
  const method = await getReceiptMethod(ctx.deps.db, step.methodId)
  if (!method) {
    ctx.session.step = undefined
    return reply(ctx, ctx.t.topupNoMethods)
  }
  ctx.session.step = { kind: 'receipt', methodId: method.id, amount: amount.toString(), orderId: null }
  await reply(ctx, ctx.t.cardInstructions(cardFacts(ctx, method, amount.toString(), null)), new InlineKeyboard().text(ctx.t.btnCancel, MENU.home))
})
