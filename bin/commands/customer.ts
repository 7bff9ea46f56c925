import { createUser, UserInputError } from '#db/users.ts'
import { optionalFlag, requireFlag, UsageError, type Command } from '../cli.ts'
import { withCliDatabase } from './db.ts'

const create: Command = {
  name: ['customer', 'create'],
  usage: 'customer create --username NAME [--password PASSWORD] [--telegram-id ID] [--locale fa|en]',
  summary: 'Create a customer and their wallet',
  async run({ flags, out }) {
    const username = requireFlag(flags, 'username')
    const telegramId = optionalFlag(flags, 'telegram-id')
    if (telegramId !== undefined && !/^[0-9]{1,15}$/.test(telegramId)) throw new UsageError(`--telegram-id must be a Telegram user id, up to 15 digits (got "${telegramId}")`)
    const locale = optionalFlag(flags, 'locale') ?? 'fa'
    if (locale !== 'fa' && locale !== 'en') throw new UsageError('--locale must be fa or en')
    return withCliDatabase(flags, 'customer create', async (db) => {
      try {
        const user = await createUser(db, { username, password: optionalFlag(flags, 'password'), role: 'customer', locale, telegramId })
        out(`customer "${user.username}" created (user id ${user.id})`)
        return 0
      } catch (error) {
        if (error instanceof UserInputError) throw new UsageError(error.message)
        throw error
      }
    })
  },
}

export const commands: Command[] = [create]
