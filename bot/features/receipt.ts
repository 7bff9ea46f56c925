import { Composer } from 'grammy'
import { PaymentRefusedError, storeReceipt, submitPayment } from '#db/payments.ts'
import type { BotContext } from '../context.ts'
import { isCommand } from '../helpers/commands.ts'
import { downloadTelegramFile, FileTooLargeError, receiptFileOf } from '../helpers/files.ts'
import { reply, requireUser } from '../helpers/screen.ts'
import { withTemporal } from '../helpers/temporal.ts'
import { sendReceiptToAdmins } from '../services/admin-copies.ts'
import { receiptKeyboard } from './buy.ts'

/**
 * The receipt of a card-to-card payment (an order or a wallet top-up): a photo or a PDF, never text. The file is
 * fetched from Telegram, checked by its content and stored, then submitted through the same service the web uses,
 * which starts the payment-approval workflow.
 */
export const receiptFeature = new Composer<BotContext>()

receiptFeature.chatType('private').on('message', async (ctx, next) => {
  const step = ctx.session.step
  if (step?.kind !== 'receipt' || isCommand(ctx.message)) return next()
  ctx.deps.logger.debug('handle', { handler: 'receipt-message', updateId: ctx.update.update_id, from: ctx.from.id })
  const user = await requireUser(ctx)
  if (!user) return
  const cancel = receiptKeyboard(ctx, step.orderId)
  const file = receiptFileOf(ctx.message)
  if (file === undefined) return reply(ctx, ctx.t.receiptTextRefused, cancel)
  if (file === 'wrong-type') return reply(ctx, ctx.t.receiptBadType, cancel)
  const maxBytes = ctx.deps.env.RECEIPT_MAX_BYTES
  if (file.size !== undefined && file.size > maxBytes) return reply(ctx, ctx.t.receiptTooBig(Math.floor(maxBytes / 1024)), cancel)

  let bytes: Buffer
  try {
    bytes = await downloadTelegramFile(ctx.api, ctx.deps.env.TELEGRAM_API_ROOT, file.fileId, maxBytes)
  } catch (error) {
    if (error instanceof FileTooLargeError) return reply(ctx, ctx.t.receiptTooBig(Math.floor(maxBytes / 1024)), cancel)
    ctx.deps.logger.warn('receipt-download-failed', { from: ctx.from.id, error: error instanceof Error ? error.message : 'error' })
    return reply(ctx, ctx.t.receiptDownloadFailed, cancel)
  }

  await withTemporal(ctx, async (client) => {
    try {
      const receipt = await storeReceipt(bytes, { uploadDir: ctx.deps.env.UPLOAD_DIR, maxBytes })
      const { payment } = await submitPayment(ctx.deps.db, client, {
        userId: user.id,
        methodId: step.methodId,
        amount: step.amount,
        orderId: step.orderId,
        receipt,
      })
      ctx.session.step = undefined
      ctx.deps.logger.info('receipt-submitted', { userId: user.id, paymentId: payment.id, orderId: step.orderId })
      await reply(ctx, ctx.t.receiptSubmitted(payment.id))
      await sendReceiptToAdmins(ctx.deps, ctx.api, { paymentId: payment.id, fileId: file.fileId, kind: file.kind })
      if (step.orderId !== null) await ctx.services.progress.followOrder({ orderId: step.orderId, chatId: ctx.chat.id, locale: ctx.locale })
    } catch (error) {
      if (!(error instanceof PaymentRefusedError)) throw error
      // A refusal about the order or the method ends this step; a bad or repeated file lets the person try another.
      if (['ORDER_NOT_PAYABLE', 'METHOD_INACTIVE', 'METHOD_NOT_FOUND', 'AMOUNT_TOO_LOW', 'DAILY_COUNT_LIMIT', 'DAILY_AMOUNT_LIMIT'].includes(error.code)) {
        ctx.session.step = undefined
      }
      await reply(ctx, ctx.t.paymentRefused(error.code, error.message), ctx.session.step ? cancel : undefined)
    }
  })
})
