import { LedgerError } from '#db/ledger.ts'
import { adjustWallet } from '#db/payments.ts'
import { formatMoney, InvalidAmountError } from '#domain/money.ts'
import { optionalFlag, requireFlag, UsageError, type Command } from '../cli.ts'
import { withCliDatabase } from './db.ts'
import { resolveAdmin, resolveUser, withCliTemporal } from './workflows.ts'

const adjust: Command = {
  name: ['wallet', 'adjust'],
  usage: 'wallet adjust --user USER --amount [-]AMOUNT --note TEXT [--admin ADMIN] [--key IDEMPOTENCY_KEY]',
  summary: "Correct a wallet by hand (CHARGE_MANUAL); the 24-hour rule hears about an agent's credit",
  async run({ flags, out }) {
    const userRef = requireFlag(flags, 'user')
    const amount = requireFlag(flags, 'amount')
    const note = requireFlag(flags, 'note')
    return withCliDatabase(flags, 'wallet adjust', async (db) => {
      const user = await resolveUser(db, userRef)
      const admin = await resolveAdmin(db, flags)
      return withCliTemporal(async (client) => {
        try {
          const result = await adjustWallet(db, client, { userId: user.id, amount, note, actorUserId: admin.id, idempotencyKey: optionalFlag(flags, 'key') })
          const fmt = (v: bigint) => formatMoney(v, { locale: 'en' })
          out(`${result.replayed ? 'already applied' : 'adjusted'}: ${user.username} now has ${fmt(result.confirmed)} confirmed, ${fmt(result.pending)} pending (usable ${fmt(result.usable)})`)
          return 0
        } catch (error) {
          if (error instanceof LedgerError || error instanceof InvalidAmountError) throw new UsageError(error.message)
          throw error
        }
      })
    })
  },
}

export const commands: Command[] = [adjust]
