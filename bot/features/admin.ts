import { WorkflowNotFoundError, type Client } from '@temporalio/client'
import { Composer, InlineKeyboard } from 'grammy'
import { decidePayment } from '#db/payments.ts'
import { countAudience, getPaymentView, listPendingPayments, startBroadcast, userLabel } from '#db/telegram.ts'
import { findTextProblem } from '#domain/text.ts'
import { paymentStatusQuery, type PaymentStatus } from '#temporal/messages.ts'
import { paymentWorkflowId } from '#temporal/workflow-ids.ts'
import type { BotContext } from '../context.ts'
import { isCommand } from '../helpers/commands.ts'
import { logHandle } from '../helpers/log-handle.ts'
import { answer, reply, show } from '../helpers/screen.ts'
import { withTemporal } from '../helpers/temporal.ts'
import type { Audience } from '../i18n/en.ts'
import { getMessages } from '../i18n/index.ts'
import { MENU } from '../keyboards/menu.ts'
import { refreshAdminCopies, sendStoredReceipt, type DecisionFacts } from '../services/admin-copies.ts'

/**
 * Admins in Telegram: Approve / Reject on receipts (the buttons of the payment workflow's notices and of the bot's
 * receipt copies), the reason for a rejection, the list of waiting receipts, and broadcasts.
 */
export const adminFeature = new Composer<BotContext>()

function isAdmin(ctx: BotContext): boolean {
  return ctx.user?.role === 'admin' && ctx.user.status === 'active'
}

type Outcome =
  | { kind: 'done'; facts: DecisionFacts }
  | { kind: 'already'; facts: DecisionFacts }
  | { kind: 'not_found' }
  | { kind: 'paid_online' }
  | { kind: 'accepted' }
  | { kind: 'no_answer' }

function factsOf(status: PaymentStatus): DecisionFacts {
  return {
    status: status.status === 'PENDING' ? 'EXPIRED' : status.status,
    decidedBy: status.decidedBy ? status.decidedBy : null,
    decidedAt: status.decidedAt ? new Date(status.decidedAt) : null,
    note: status.note,
  }
}

/** The payment's own status, from its workflow (the stored row may lag behind it), else from the row. */
async function livePayment(ctx: BotContext, client: Client, paymentId: number): Promise<PaymentStatus | undefined> {
  try {
    return await client.workflow.getHandle(paymentWorkflowId(paymentId)).query(paymentStatusQuery)
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error
  }
  const row = await getPaymentView(ctx.deps.db, paymentId)
  if (!row) return undefined
  return {
    paymentId,
    status: row.status,
    decidedBy: row.decidedBy,
    decidedAt: row.decidedAt ? new Date(row.decidedAt).toISOString() : null,
    note: row.note,
    remindersSent: 0,
    expiresAt: '',
    balanceAfter: null,
  }
}

/**
 * The decision, as an update of the payment workflow, which takes only the first one: whoever comes second (the
 * same admin pressing twice, or another admin at the same moment) is told who decided, how and when, by the
 * workflow's validator. So a credit can never happen twice, whichever bot process or web page the presses reach.
 */
async function decide(ctx: BotContext, client: Client, paymentId: number, decision: 'approve' | 'reject', note: string | null): Promise<Outcome> {
  const result = await decidePayment(client, paymentId, { decision, adminId: ctx.user!.id, note })
  if (result.ok) {
    const d = result.decided
    if (!d) return { kind: 'accepted' }
    return { kind: 'done', facts: { status: d.outcome === 'approved' ? 'APPROVED' : 'REJECTED', decidedBy: d.decidedBy, decidedAt: new Date(d.decidedAt), note: d.note } }
  }
  const refusal = result.refusal
  if (refusal?.reason === 'paid_online') return { kind: 'paid_online' }
  if (refusal?.reason === 'expired') return { kind: 'already', facts: { status: 'EXPIRED', decidedBy: null, decidedAt: new Date(refusal.expiredAt), note: null } }
  if (refusal?.reason === 'already_decided') {
    const status = refusal.decision === 'approved' ? 'APPROVED' : 'REJECTED'
    return { kind: 'already', facts: { status, decidedBy: refusal.decidedBy, decidedAt: refusal.decidedAt ? new Date(refusal.decidedAt) : null, note: refusal.note } }
  }
  if (result.reason === 'no_answer') return { kind: 'no_answer' }
  // No workflow (any more): the stored row says what is known.
  const live = await livePayment(ctx, client, paymentId)
  if (!live || live.status === 'PENDING') return { kind: 'not_found' }
  return { kind: 'already', facts: factsOf(live) }
}

async function tellOutcome(ctx: BotContext, paymentId: number, outcome: Outcome, asText: boolean): Promise<void> {
  if (outcome.kind === 'not_found') {
    await answer(ctx, ctx.t.paymentNotFound, true)
    if (asText) await ctx.reply(ctx.t.paymentNotFound)
    return
  }
  if (outcome.kind === 'paid_online') {
    await answer(ctx, ctx.t.paidOnline, true)
    if (asText) await ctx.reply(ctx.t.paidOnline)
    return
  }
  if (outcome.kind === 'accepted') {
    await answer(ctx, ctx.t.decisionAccepted)
    if (asText) await ctx.reply(ctx.t.decisionAccepted)
    return
  }
  if (outcome.kind === 'no_answer') {
    await answer(ctx, ctx.t.decisionNoAnswer, true)
    if (asText) await ctx.reply(ctx.t.decisionNoAnswer)
    return
  }
  const f = outcome.facts
  const text = outcome.kind === 'done' ? ctx.t.decisionDone(f.status) : ctx.t.alreadyDecided(f.status, f.decidedBy ? await userLabel(ctx.deps.db, f.decidedBy) : null, f.decidedAt)
  await answer(ctx, text, outcome.kind === 'already')
  if (asText) await ctx.reply(text)
  await refreshAdminCopies(ctx.deps, ctx.api, paymentId, f)
}

adminFeature.callbackQuery(/^pay:(approve|reject):(\d{1,9})$/, logHandle('payment-decision-button'), async (ctx) => {
  if (!isAdmin(ctx)) return answer(ctx, ctx.t.notAdmin, true)
  const paymentId = Number(ctx.match[2])
  const decision = ctx.match[1] as 'approve' | 'reject'
  await withTemporal(ctx, async (client) => {
    if (decision === 'approve') {
      const outcome = await decide(ctx, client, paymentId, 'approve', null)
      ctx.deps.logger.info('payment-decision', { paymentId, adminId: ctx.user!.id, decision, outcome: outcome.kind })
      return tellOutcome(ctx, paymentId, outcome, false)
    }
    const live = await livePayment(ctx, client, paymentId)
    if (!live) return answer(ctx, ctx.t.paymentNotFound, true)
    if (live.confirmedBy === 'gateway' && live.status === 'PENDING') return tellOutcome(ctx, paymentId, { kind: 'paid_online' }, false)
    if (live.status !== 'PENDING') return tellOutcome(ctx, paymentId, { kind: 'already', facts: factsOf(live) }, false)
    await answer(ctx)
    ctx.session.step = { kind: 'reject_reason', paymentId, chatId: ctx.chat!.id, messageId: ctx.callbackQuery.message?.message_id ?? null }
    // In a group the bot only sees replies to its own messages, so the prompt asks for a reply.
    await ctx.reply(ctx.t.askRejectReason(paymentId).value, { parse_mode: 'HTML', reply_markup: { force_reply: true, input_field_placeholder: '…' } })
  })
})

/** The reason for a rejection, typed by the admin who pressed Reject, in the chat where they pressed it. */
adminFeature.on('message', async (ctx, next) => {
  const step = ctx.session.step
  if (step?.kind !== 'reject_reason' || isCommand(ctx.message)) return next()
  if (!isAdmin(ctx)) {
    ctx.session.step = undefined
    return next()
  }
  const note = ctx.message.text?.trim() ?? ''
  if (note === '' || note.length > 300 || findTextProblem(note, 'multiLine')) return reply(ctx, ctx.t.rejectReasonInvalid)
  ctx.session.step = undefined
  await withTemporal(ctx, async (client) => {
    const outcome = await decide(ctx, client, step.paymentId, 'reject', note)
    ctx.deps.logger.info('payment-decision', { paymentId: step.paymentId, adminId: ctx.user!.id, decision: 'reject', outcome: outcome.kind })
    await tellOutcome(ctx, step.paymentId, outcome, true)
    if (outcome.kind === 'done') await offerNewReceipt(ctx, step.paymentId, note)
  })
})

/**
 * The payer of a rejected order receipt gets a button to send a new one. When the bot is following that order
 * for them, the progress message already shows it; otherwise it comes as its own message.
 */
async function offerNewReceipt(ctx: BotContext, paymentId: number, note: string): Promise<void> {
  const payment = await getPaymentView(ctx.deps.db, paymentId)
  if (!payment?.orderId || !payment.payerTelegramId) return
  if (ctx.services.progress.isFollowing(payment.orderId)) return
  const payer = await ctx.deps.db('users').where({ id: payment.userId }).first('locale')
  const { t } = getMessages(payer?.locale ?? ctx.deps.env.DEFAULT_LOCALE, ctx.deps.env.CURRENCY)
  await ctx.api
    .sendMessage(payment.payerTelegramId, t.receiptRejected(payment.orderId, note).value, {
      parse_mode: 'HTML',
      reply_markup: new InlineKeyboard().text(t.btnResendReceipt, `buy:resend:${payment.orderId}`),
    })
    .catch((error: unknown) => ctx.deps.logger.warn('resend-offer-failed', { paymentId, error: error instanceof Error ? error.message : 'error' }))
}

adminFeature.command('pending', logHandle('command-pending'), async (ctx) => {
  if (!isAdmin(ctx)) return reply(ctx, ctx.t.notAdminText)
  const pending = await listPendingPayments(ctx.deps.db, 10)
  if (pending.length === 0) return reply(ctx, ctx.t.pendingNone)
  await reply(ctx, ctx.t.pendingTitle(pending.length))
  for (const p of pending) await sendStoredReceipt(ctx.deps, ctx.api, ctx.chat.id, p, ctx.t, ctx.locale)
})

// ---- broadcast ------------------------------------------------------------------------------------

const privateChat = adminFeature.chatType('private')

privateChat.command('broadcast', logHandle('command-broadcast'), async (ctx) => {
  if (!isAdmin(ctx)) return reply(ctx, ctx.t.notAdminText)
  ctx.session.step = undefined
  const keyboard = new InlineKeyboard()
    .text(ctx.t.btnAudience('customers'), 'bc:aud:customers')
    .text(ctx.t.btnAudience('agents'), 'bc:aud:agents')
    .row()
    .text(ctx.t.btnAudience('all'), 'bc:aud:all')
    .row()
    .text(ctx.t.btnCancel, MENU.home)
  await reply(ctx, ctx.t.broadcastChooseAudience, keyboard)
})

privateChat.callbackQuery(/^bc:aud:(all|customers|agents)$/, logHandle('broadcast-audience'), async (ctx) => {
  if (!isAdmin(ctx)) return answer(ctx, ctx.t.notAdmin, true)
  await answer(ctx)
  const audience = ctx.match[1] as Audience
  const count = await countAudience(ctx.deps.db, audience)
  if (count === 0) return show(ctx, ctx.t.broadcastEmpty, new InlineKeyboard().text(ctx.t.btnMenu, MENU.home))
  ctx.session.step = { kind: 'broadcast_text', audience }
  await show(ctx, ctx.t.broadcastAskText(audience, count), new InlineKeyboard().text(ctx.t.btnCancel, MENU.home))
})

privateChat.on('message', async (ctx, next) => {
  const step = ctx.session.step
  if (step?.kind !== 'broadcast_text' || isCommand(ctx.message)) return next()
  if (!isAdmin(ctx)) {
    ctx.session.step = undefined
    return next()
  }
  const text = ctx.message.text?.trim() ?? ''
  if (text === '' || text.length > 4000 || findTextProblem(text, 'multiLine')) return reply(ctx, ctx.t.broadcastTextInvalid)
  const count = await countAudience(ctx.deps.db, step.audience)
  ctx.session.step = { kind: 'broadcast_confirm', audience: step.audience, text }
  await reply(ctx, ctx.t.broadcastConfirm(step.audience, count, text), new InlineKeyboard().text(ctx.t.btnSendBroadcast, 'bc:send').text(ctx.t.btnCancel, MENU.home))
})

privateChat.callbackQuery('bc:send', logHandle('broadcast-send'), async (ctx) => {
  if (!isAdmin(ctx)) return answer(ctx, ctx.t.notAdmin, true)
  const step = ctx.session.step
  if (step?.kind !== 'broadcast_confirm') return answer(ctx, ctx.t.staleButton, true)
  await answer(ctx)
  await withTemporal(ctx, async (client) => {
    ctx.session.step = undefined
    const started = await startBroadcast(ctx.deps.db, client, { createdBy: ctx.user!.id, text: step.text, audience: step.audience })
    ctx.deps.logger.info('broadcast-started', { broadcastId: started.broadcast.id, adminId: ctx.user!.id, audience: step.audience })
    await show(ctx, ctx.t.broadcastStarted(started.broadcast.id, started.recipients))
  })
})
