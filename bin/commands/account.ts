import { previewRefund, RefundRefusedError, requestRefund } from '#db/accounts.ts'
import { formatMoney } from '#domain/money.ts'
import type { RefundResult } from '#temporal/messages.ts'
import { optionalFlag, type Command } from '../cli.ts'
import { withCliDatabase } from './db.ts'
import { positiveId, resolveAdmin, resolveUser, withCliTemporal } from './workflows.ts'

const RULES: Record<string, string> = {
  full_window: 'full refund (new account, little traffic used)',
  prorated: 'prorated by the larger of used time and used traffic',
  expired: 'nothing: the account has expired',
  traffic_used_up: 'nothing: the traffic is used up',
  nothing_paid: 'nothing was paid for it',
}

const del: Command = {
  name: ['account', 'delete'],
  usage: 'account delete ACCOUNT_ID [--yes] [--by USER] [--reason TEXT]',
  summary: 'Show the refund quote; with --yes remove the account from its panel and refund',
  async run({ args, flags, out }) {
    const accountId = positiveId(args[0], 'ACCOUNT_ID')
    return withCliDatabase(flags, 'account delete', async (db) => {
      const byRef = optionalFlag(flags, 'by')
      const actor = byRef === undefined ? await resolveAdmin(db, flags) : await resolveUser(db, byRef, 'by')
      let quote
      try {
        quote = await previewRefund(db, { accountId, requestedBy: actor.id })
      } catch (error) {
        if (error instanceof RefundRefusedError) {
          process.stderr.write(`${error.message}\n`)
          return 1
        }
        throw error
      }
      const fmt = (v: bigint) => formatMoney(v, { locale: 'en' })
      out(`account #${accountId} (${quote.panelUsername}): paid ${fmt(quote.paid)}, refund ${fmt(quote.quote.amount)} — ${RULES[quote.quote.rule] ?? quote.quote.rule}`)
      out(`used: ${(quote.quote.usedTimeBps / 100).toFixed(1)}% of the time, ${(quote.quote.usedTrafficBps / 100).toFixed(1)}% of the traffic; the panel user will be ${quote.panelAction === 'delete' ? 'deleted' : 'disabled'}`)
      if (!flags.yes) {
        out('nothing done: run again with --yes to delete the account and refund')
        return 0
      }
      return withCliTemporal(async (client) => {
        const { workflowId } = await requestRefund(db, client, { accountId, requestedBy: actor.id, reason: optionalFlag(flags, 'reason', 'singleLine') ?? 'deleted from the command line' })
        // A panel that is away holds the refund back (money never returns for a working account): do not wait forever.
        const result = await Promise.race([
          client.workflow.getHandle<() => Promise<RefundResult>>(workflowId).result(),
          new Promise<null>((resolve) => setTimeout(() => resolve(null), 60_000).unref()),
        ])
        if (!result) {
          out(`refund started (${workflowId}) but the panel has not confirmed the removal yet; it keeps trying (see \`workflows stuck\`)`)
          return 0
        }
        out(`account #${accountId} removed; ${fmt(BigInt(result.amount))} refunded (${workflowId})`)
        return 0
      })
    })
  },
}

export const commands: Command[] = [del]
