import { readFile } from 'node:fs/promises'
import { getEnv } from '#config/env.ts'
import { decidePayment, PaymentRefusedError, storeReceipt, submitPayment } from '#db/payments.ts'
import { parseId } from '#domain/ids.ts'
import { optionalFlag, requireFlag, UsageError, type Command } from '../cli.ts'
import { withCliDatabase } from './db.ts'
import { positiveId, resolveAdmin, resolveUser, withCliTemporal } from './workflows.ts'

const submit: Command = {
  name: ['payment', 'submit'],
  usage: 'payment submit --user USER --amount AMOUNT --method ID|CARD|SHEBA|CRYPTO [--receipt FILE] [--order ORDER_ID] [--note TEXT]',
  summary: 'Submit a receipt for review; its amount is pending credit at once',
  async run({ flags, out }) {
    const userRef = requireFlag(flags, 'user')
    const amount = requireFlag(flags, 'amount')
    const methodRef = requireFlag(flags, 'method')
    const receiptFile = optionalFlag(flags, 'receipt')
    const orderRaw = optionalFlag(flags, 'order')
    const orderId = orderRaw === undefined ? undefined : positiveId(orderRaw, '--order')
    return withCliDatabase(flags, 'payment submit', async (db) => {
      const user = await resolveUser(db, userRef)
      const method = /^[0-9]+$/.test(methodRef)
        ? await db('paymentMethods').where({ id: parseId(methodRef) ?? 0 }).first('id')
        : await db('paymentMethods').where({ kind: methodRef.toUpperCase(), active: true }).orderBy('id').first('id')
      if (!method) throw new UsageError(`--method: no payment method "${methodRef}"`)
      return withCliTemporal(async (client) => {
        try {
          let receipt
          if (receiptFile !== undefined) {
            const env = getEnv()
            const bytes = await readFile(receiptFile).catch((error: NodeJS.ErrnoException) => {
              throw new UsageError(`--receipt: cannot read ${receiptFile} (${error.code ?? error.message})`)
            })
            receipt = await storeReceipt(bytes, { uploadDir: env.UPLOAD_DIR, maxBytes: env.RECEIPT_MAX_BYTES })
          }
          const { payment, workflowId } = await submitPayment(db, client, { userId: user.id, methodId: method.id, amount, orderId, receipt, note: optionalFlag(flags, 'note') })
          out(`payment #${payment.id} submitted (${workflowId}): ${payment.amount} pending for ${user.username}, waiting for an admin`)
          return 0
        } catch (error) {
          if (error instanceof PaymentRefusedError) {
            process.stderr.write(`payment refused: ${error.message}\n`)
            return 1
          }
          throw error
        }
      })
    })
  },
}

const decide: Command = {
  name: ['payment', 'decide'],
  usage: 'payment decide PAYMENT_ID approve|reject [--note TEXT] [--admin ADMIN]',
  summary: 'Approve or reject a payment (a closed one gets a clear answer)',
  async run({ args, flags, out }) {
    const paymentId = positiveId(args[0], 'PAYMENT_ID')
    const decision = args[1]
    if (decision !== 'approve' && decision !== 'reject') throw new UsageError('say approve or reject after the payment id')
    return withCliDatabase(flags, 'payment decide', async (db) => {
      const admin = await resolveAdmin(db, flags)
      return withCliTemporal(async (client) => {
        const result = await decidePayment(client, paymentId, { decision, adminId: admin.id, note: optionalFlag(flags, 'note') ?? null })
        if (result.ok) {
          out(`${result.message}${result.decided ? `; the payer's usable credit is now ${result.decided.balanceAfter}` : ''}`)
          return 0
        }
        out(result.message)
        return 1
      })
    })
  },
}

export const commands: Command[] = [submit, decide]
