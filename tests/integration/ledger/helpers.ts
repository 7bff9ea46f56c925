import { createUser } from '#db/users.ts'
import type { Db } from '#db/knex.ts'
import type { Role } from '#db/models.ts'

let counter = 0

/** A user with a wallet; usernames are unique within the test database. */
export async function makeUser(db: Db, role: Role, label: string = role): Promise<number> {
  counter += 1
  const user = await createUser(db, { username: `${label}_${counter}`, role })
  return user.id
}

/** Runs a call that must fail and returns the error, for assertions on its class, code and message. */
export async function failure(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('expected the call to fail, but it succeeded')
}
