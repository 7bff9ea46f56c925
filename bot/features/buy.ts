import { Composer, InlineKeyboard } from 'grammy'
import { getWallet } from '#db/ledger.ts'
import type { User } from '#db/models.ts'
import { cancelOrder, OrderRefusedError, placeOrder } from '#db/orders.ts'
import {
  getLocation,
  getOrderState,
  getPlan,
  getReceiptMethod,
  latestPaymentOfOrder,
  listLocationsForSale,
  listPlansForLocation,
  listReceiptMethods,
  type PlanView,
} from '#db/telegram.ts'
import { priceForRole } from '#domain/pricing.ts'
import type { BotContext } from '../context.ts'
import { logHandle } from '../helpers/log-handle.ts'
import { cardFacts } from '../helpers/methods.ts'
import { answer, reply, requireUser, show } from '../helpers/screen.ts'
import { withTemporal } from '../helpers/temporal.ts'
import type { PlanFacts } from '../i18n/en.ts'
import { MENU } from '../keyboards/menu.ts'

/** Buying: location → plan at the buyer's price → pay from the wallet or by receipt → progress until delivery. */
export const buyFeature = new Composer<BotContext>()
const privateChat = buyFeature.chatType('private')

export function planFacts(ctx: BotContext, user: User, plan: PlanView): PlanFacts {
  return {
    name: ctx.locale === 'fa' ? plan.nameFa : plan.nameEn,
    days: plan.days,
    dataLimitBytes: plan.dataLimitBytes,
    price: priceForRole(user.role, { price: BigInt(plan.price), agentPrice: BigInt(plan.agentPrice) }).toString(),
  }
}

/** Under the card details: cancelling stops the order that waits for this receipt, not only the question. */
export function receiptKeyboard(ctx: BotContext, orderId: number | null): InlineKeyboard {
  return new InlineKeyboard().text(ctx.t.btnCancel, orderId === null ? MENU.home : `buy:cancel:${orderId}`)
}

/**
 * Cancels an order of the person that still waits for its receipt (nothing was charged). An order whose receipt is
 * under review is left to the admins.
 */
export async function cancelWaitingOrder(ctx: BotContext, orderId: number): Promise<void> {
  const user = ctx.user!
  const order = await getOrderState(ctx.deps.db, orderId)
  ctx.session.step = undefined
  if (!order || order.userId !== user.id || !['pending', 'awaiting_payment'].includes(order.status)) return reply(ctx, ctx.t.cancelled)
  const last = await latestPaymentOfOrder(ctx.deps.db, order.id)
  if (last?.status === 'PENDING') return reply(ctx, ctx.t.orderUnderReview(order.id))
  await withTemporal(ctx, async (client) => {
    const result = await cancelOrder(ctx.deps.db, client, order.id, { reason: 'cancelled by the buyer in Telegram', actorUserId: user.id })
    ctx.deps.logger.info('order-cancelled', { userId: user.id, orderId: order.id, answer: result.ok ? (result.cancelled ? 'cancelled' : 'accepted') : result.reason })
    if (result.ok) {
      const refunded = result.cancelled?.refunded
      if (!result.cancelled) return show(ctx, ctx.t.orderCancelling(order.id))
      return show(ctx, refunded && refunded !== '0' ? ctx.t.orderCancelledRefunded(order.id, refunded) : ctx.t.orderCancelled(order.id))
    }
    const refusal = result.refusal
    if (refusal?.reason === 'already_cancelled') return show(ctx, ctx.t.orderCancelled(order.id))
    if (refusal?.reason === 'too_late') return show(ctx, ctx.t.orderCancelTooLate(order.id, refusal.state))
    if (result.reason === 'no_answer') return show(ctx, ctx.t.orderCancelNoAnswer(order.id))
    await reply(ctx, ctx.t.cancelled)
  })
}

/** The payment buttons under a plan: the wallet first, then every receipt method. */
export async function paymentKeyboard(ctx: BotContext, user: User, prefix: string, back: string): Promise<InlineKeyboard> {
  const wallet = await getWallet(ctx.deps.db, user.id)
  const methods = await listReceiptMethods(ctx.deps.db)
  const keyboard = new InlineKeyboard().text(ctx.t.btnPayWallet(wallet.spendable.toString()), `${prefix}:w`).row()
  for (const m of methods) keyboard.text(ctx.t.btnPayMethod(ctx.locale === 'fa' ? m.titleFa : m.titleEn), `${prefix}:c:${m.id}`).row()
  return keyboard.text(ctx.t.btnBack, back).text(ctx.t.btnMenu, MENU.home)
}

export interface OrderRequest {
  kind: 'new' | 'renew'
  planId: number
  locationId?: number
  accountId?: number
  /** 'wallet' or the id of a receipt method. */
  pay: 'wallet' | number
}

/**
 * Places an order through the shared service and takes the next step: a wallet order is followed to delivery; a
 * receipt order shows the card, the holder and the exact amount and waits for the receipt. The idempotency key
 * is the message the buttons were on, so pressing twice places one order.
 */
export async function placeAndPay(ctx: BotContext, user: User, request: OrderRequest): Promise<void> {
  const message = ctx.callbackQuery?.message
  const method = request.pay === 'wallet' ? undefined : await getReceiptMethod(ctx.deps.db, request.pay)
  if (request.pay !== 'wallet' && !method) return answer(ctx, ctx.t.staleButton, true)
  await answer(ctx)
  const key = `tg:${ctx.chat!.id}:${message?.message_id ?? ctx.update.update_id}:${request.kind}:${request.planId}:${request.pay}`
  await withTemporal(ctx, async (client) => {
    let placed
    try {
      placed = await placeOrder(ctx.deps.db, client, {
        userId: user.id,
        planId: request.planId,
        locationId: request.locationId ?? null,
        kind: request.kind,
        accountId: request.accountId ?? null,
        payMethod: request.pay === 'wallet' ? 'wallet' : 'receipt',
        idempotencyKey: key,
      })
    } catch (error) {
      if (error instanceof OrderRefusedError) return reply(ctx, ctx.t.orderRefused(error.code, error.message))
      throw error
    }
    const order = placed.order
    ctx.deps.logger.info('order-placed', { userId: user.id, orderId: order.id, kind: request.kind, pay: request.pay === 'wallet' ? 'wallet' : 'receipt', created: placed.created })
    if (!method) {
      await show(ctx, ctx.t.orderPlaced(order.id))
      await ctx.services.progress.followOrder({ orderId: order.id, chatId: ctx.chat!.id, locale: ctx.locale })
      return
    }
    ctx.session.step = { kind: 'receipt', methodId: method.id, amount: String(order.price), orderId: order.id }
    await show(ctx, ctx.t.cardInstructions(cardFacts(ctx, method, String(order.price), order.id)), receiptKeyboard(ctx, order.id))
  })
}

async function chooseLocation(ctx: BotContext): Promise<void> {
  const user = await requireUser(ctx)
  if (!user) return
  await answer(ctx)
  ctx.session.step = undefined
  const locations = await listLocationsForSale(ctx.deps.db, user.id)
  if (locations.length === 0) return show(ctx, ctx.t.buyNoLocations, new InlineKeyboard().text(ctx.t.btnMenu, MENU.home))
  const keyboard = new InlineKeyboard()
  locations.forEach((l, i) => {
    keyboard.text(ctx.t.btnLocation(ctx.locale === 'fa' ? l.nameFa : l.nameEn), `buy:l:${l.id}`)
    if (i % 2 === 1) keyboard.row()
  })
  keyboard.row().text(ctx.t.btnMenu, MENU.home)
  await show(ctx, ctx.t.buyChooseLocation, keyboard)
}

privateChat.command('buy', logHandle('command-buy'), chooseLocation)
privateChat.callbackQuery([MENU.buy, 'buy:start'], logHandle('menu-buy'), chooseLocation)

privateChat.callbackQuery(/^buy:l:(\d{1,9})$/, logHandle('buy-location'), async (ctx) => {
  const user = await requireUser(ctx)
  if (!user) return
  const location = await getLocation(ctx.deps.db, Number(ctx.match[1]))
  if (!location?.active) return answer(ctx, ctx.t.staleButton, true)
  await answer(ctx)
  const name = ctx.locale === 'fa' ? location.nameFa : location.nameEn
  const plans = await listPlansForLocation(ctx.deps.db, location.id)
  if (plans.length === 0) return show(ctx, ctx.t.buyNoPlans(name), new InlineKeyboard().text(ctx.t.btnBack, 'buy:start'))
  const keyboard = new InlineKeyboard()
  for (const plan of plans) {
    const facts = planFacts(ctx, user, plan)
    keyboard.text(ctx.t.btnPlan(facts.name, facts.price), `buy:p:${location.id}:${plan.id}`).row()
  }
  keyboard.text(ctx.t.btnBack, 'buy:start').text(ctx.t.btnMenu, MENU.home)
  await show(ctx, ctx.t.buyChoosePlan(name), keyboard)
})

privateChat.callbackQuery(/^buy:p:(\d{1,9}):(\d{1,9})$/, logHandle('buy-plan'), async (ctx) => {
  const user = await requireUser(ctx)
  if (!user) return
  const [location, plan] = await Promise.all([getLocation(ctx.deps.db, Number(ctx.match[1])), getPlan(ctx.deps.db, Number(ctx.match[2]))])
  if (!location?.active || !plan?.active) return answer(ctx, ctx.t.staleButton, true)
  await answer(ctx)
  const prefix = `buy:p:${location.id}:${plan.id}`
  const keyboard = await paymentKeyboard(ctx, user, prefix, `buy:l:${location.id}`)
  await show(ctx, ctx.t.buyPlanSummary(planFacts(ctx, user, plan), ctx.locale === 'fa' ? location.nameFa : location.nameEn), keyboard)
})

privateChat.callbackQuery(/^buy:p:(\d{1,9}):(\d{1,9}):(?:w|c:(\d{1,9}))$/, logHandle('buy-pay'), async (ctx) => {
  const user = await requireUser(ctx)
  if (!user) return
  await placeAndPay(ctx, user, {
    kind: 'new',
    locationId: Number(ctx.match[1]),
    planId: Number(ctx.match[2]),
    pay: ctx.match[3] === undefined ? 'wallet' : Number(ctx.match[3]),
  })
})

/**
 * A rejected or expired receipt: the person sends a new one for the same purchase, without choosing location and
 * plan again. An order still waiting for its payment takes it directly; an order that ended because its receipt
 * was refused (the order workflow does not wait for a second receipt) is placed again with the same plan, location
 * and account — once, whatever the number of presses — and the new receipt pays for that.
 */
privateChat.callbackQuery(/^buy:resend:(\d{1,9})$/, logHandle('buy-resend-receipt'), async (ctx) => {
  const user = await requireUser(ctx)
  if (!user) return
  const order = await getOrderState(ctx.deps.db, Number(ctx.match[1]))
  const last = order ? await latestPaymentOfOrder(ctx.deps.db, order.id) : undefined
  const waiting = order?.status === 'pending' || order?.status === 'awaiting_payment'
  const refused = order?.status === 'failed' && (last?.status === 'REJECTED' || last?.status === 'EXPIRED')
  if (!order || order.userId !== user.id || order.payMethod !== 'receipt' || !(waiting || refused)) {
    await answer(ctx, ctx.t.staleButton, true)
    return
  }
  if (last?.status === 'PENDING') {
    await answer(ctx)
    return reply(ctx, ctx.t.receiptSubmitted(last.id))
  }
  const method = (last && (await getReceiptMethod(ctx.deps.db, last.methodId))) || (await listReceiptMethods(ctx.deps.db))[0]
  if (!method) {
    await answer(ctx)
    return reply(ctx, ctx.t.buyNoPaymentMethods)
  }
  await answer(ctx)
  if (waiting) {
    ctx.session.step = { kind: 'receipt', methodId: method.id, amount: order.price, orderId: order.id }
    return reply(ctx, ctx.t.cardInstructions(cardFacts(ctx, method, order.price, order.id)), receiptKeyboard(ctx, order.id))
  }
  await withTemporal(ctx, async (client) => {
    let placed
    try {
      placed = await placeOrder(ctx.deps.db, client, {
        userId: user.id,
        planId: order.planId,
        locationId: order.kind === 'new' ? order.locationId : null,
        kind: order.kind === 'new' ? 'new' : order.kind,
        accountId: order.kind === 'new' ? null : order.accountId,
        payMethod: 'receipt',
        idempotencyKey: `tg:resend:${order.id}`,
      })
    } catch (error) {
      if (error instanceof OrderRefusedError) return reply(ctx, ctx.t.orderRefused(error.code, error.message))
      throw error
    }
    const next = placed.order
    ctx.deps.logger.info('order-placed-again', { userId: user.id, orderId: next.id, after: order.id })
    ctx.session.step = { kind: 'receipt', methodId: method.id, amount: String(next.price), orderId: next.id }
    await reply(ctx, ctx.t.cardInstructions(cardFacts(ctx, method, String(next.price), next.id)), receiptKeyboard(ctx, next.id))
  })
})

privateChat.callbackQuery(/^buy:cancel:(\d{1,9})$/, logHandle('buy-cancel'), async (ctx) => {
  const user = await requireUser(ctx)
  if (!user) return
  await answer(ctx)
  await cancelWaitingOrder(ctx, Number(ctx.match[1]))
})
