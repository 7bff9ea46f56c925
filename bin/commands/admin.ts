import { randomBytes } from 'node:crypto'
import { createUser, resetPassword, UserInputError } from '#db/users.ts'
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

const resetPasswordCommand: Command = {
  name: ['admin', 'reset-password'],
  usage: 'admin reset-password --username NAME [--password PASSWORD] [--reset-2fa] [--database-url URL]',
  summary: "Give a user a new password (printed once when --password is not given), ending their sessions; --reset-2fa turns two-step off",
  async run({ flags, out }) {
    const username = requireFlag(flags, 'username')
    const chosen = flags.password === undefined ? undefined : requireFlag(flags, 'password')
    // 18 random bytes → 24 URL-safe characters, as for the first admin.
    const password = chosen ?? randomBytes(18).toString('base64url')
    return withCliDatabase(flags, 'admin reset-password', async (db) => {
      try {
        const user = await resetPassword(db, { username, password, resetTwoFactor: flags['reset-2fa'] === true })
        out(`password of ${user.role} "${user.username}" reset; its ${user.sessionsEnded} session(s) were signed out`)
        if (flags['reset-2fa'] === true) out('two-step verification turned off: set it up again after signing in')
        else if (user.twoFactorOn) out('two-step verification is still on (add --reset-2fa to turn it off)')
        if (!chosen) out(`new password: ${password}\nIt is shown only now. Change it after signing in.`)
        return 0
      } catch (error) {
        if (error instanceof UserInputError) throw new UsageError(error.message)
        throw error
      }
    })
  },
}

export const commands: Command[] = [create, resetPasswordCommand]
