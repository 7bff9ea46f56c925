import { ensureLocation } from '#db/panels.ts'
import { createUser, UserInputError } from '#db/users.ts'
import { optionalFlag, requireFlag, UsageError, type Command } from '../cli.ts'
import { withCliDatabase } from './db.ts'

const create: Command = {
  name: ['agent', 'create'],
  usage: 'agent create --username NAME --password PASSWORD [--shop NAME] [--first-name X --last-name Y] [--phone P] [--max-accounts N] [--locations CODE,…]',
  summary: 'Create a reseller (agent) with their profile and wallet',
  async run({ flags, out }) {
    const username = requireFlag(flags, 'username')
    const password = requireFlag(flags, 'password')
    const maxRaw = optionalFlag(flags, 'max-accounts')
    if (maxRaw !== undefined && !/^[0-9]{1,7}$/.test(maxRaw)) throw new UsageError(`--max-accounts must be a whole number (got "${maxRaw}")`)
    const locations = (optionalFlag(flags, 'locations') ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    return withCliDatabase(flags, 'agent create', async (db) => {
      try {
        const user = await db.transaction(async (trx) => {
          const created = await createUser(trx, { username, password, role: 'agent', locale: 'fa' })
          await trx('agents').insert({
            userId: created.id,
            firstName: optionalFlag(flags, 'first-name', 'name') ?? username,
            lastName: optionalFlag(flags, 'last-name', 'name') ?? '',
            phone: optionalFlag(flags, 'phone') ?? null,
            shopName: optionalFlag(flags, 'shop', 'name') ?? null,
            maxActiveAccounts: maxRaw === undefined ? null : Number(maxRaw),
          })
          for (const code of locations) {
            const location = await ensureLocation(trx, code)
            await trx('agentLocations').insert({ agentUserId: created.id, locationId: location.id })
          }
          return created
        })
        out(`agent "${user.username}" created (user id ${user.id})${locations.length ? `, may sell in ${locations.join(', ')}` : ''}`)
        return 0
      } catch (error) {
        if (error instanceof UserInputError) throw new UsageError(error.message)
        throw error
      }
    })
  },
}

export const commands: Command[] = [create]
