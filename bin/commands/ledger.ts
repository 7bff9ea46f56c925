import { checkLedger } from '#db/ledger.ts'
import { parseId } from '#domain/ids.ts'
import { optionalFlag, UsageError, type Command } from '../cli.ts'
import { withCliDatabase } from './db.ts'

const check: Command = {
  name: ['ledger', 'check'],
  usage: 'ledger check [--user USER_ID] [--database-url URL]',
  summary: 'Verify that every wallet equals the sum of its ledger entries (exit 1 when not)',
  async run({ flags, out }) {
    const userFlag = optionalFlag(flags, 'user')
    let userId: number | undefined
    if (userFlag !== undefined) {
      userId = parseId(userFlag) ?? undefined
      if (userId === undefined) throw new UsageError(`--user must be a user id, got "${userFlag}"`)
    }
    return withCliDatabase(flags, 'ledger check', async (db) => {
      const result = await checkLedger(db, userId)
      if (result.ok) {
        out(`ledger ok: ${result.wallets} wallet(s) checked; every balance equals the sum of its entries`)
        return 0
      }
      process.stderr.write(
        `ledger check FAILED: ${result.problems.length} problem(s) in ${result.wallets} wallet(s) checked. ` +
          'Something changed balances outside the ledger: put each wallet back to what its entries say, ' +
          'then make any intended change as a manual adjustment.\n' +
          result.problems.map((p) => `  - ${p}`).join('\n') +
          '\n',
      )
      return 1
    })
  },
}

export const commands: Command[] = [check]
