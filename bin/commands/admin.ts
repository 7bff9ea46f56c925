import { createUser, UserInputError } from '#db/users.ts'
import { requireFlag, UsageError, type Command } from '../cli.ts'
import { withCliDatabase } from './db.ts'

const create: Command = {
  name: ['admin', 'create'],
  usage: 'admin create --username NAME --password PASSWORD [--database-url URL]',
  summary: 'Create an admin user (password hashed with Argon2id)',
  async run({ flags, out }) {
    const username = requireFlag(flags, 'username')
    const password = requireFlag(flags, 'password')
    return withCliDatabase(flags, 'admin create', async (db) => {
      try {
        const user = await createUser(db, { username, password, role: 'admin', locale: 'fa' })
        out(`admin "${user.username}" created (user id ${user.id})`)
        return 0
      } catch (error) {
        if (error instanceof UserInputError) throw new UsageError(error.message)
        throw error
      }
    })
  },
}

export const commands: Command[] = [create]
