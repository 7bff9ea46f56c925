import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RefundRefusedError, requestRefund } from '#db/accounts.ts'
import type { Db } from '#db/knex.ts'
import { OrderRefusedError, placeOrder } from '#db/orders.ts'
import { decidePayment, PaymentRefusedError, submitPayment } from '#db/payments.ts'
import { BroadcastRefusedError, ensureTelegramUser, startBroadcast } from '#db/telegram.ts'
import { createUser } from '#db/users.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { idArg, optionalFlag, parseArgv, requireFlag, UsageError } from '../../../bin/cli.ts'
import { commands as customerCommands } from '../../../bin/commands/customer.ts'
import { resolveUser } from '../../../bin/commands/workflows.ts'

/**
 * The services the web app, the bot, the API and the CLI share refuse text Postgres would refuse (and ids it cannot
 * hold) before they write a row or start a workflow, whichever boundary forgot to check.
 */
let db: Db
let drop: () => Promise<void>
let userId: number
let adminId: number
/** A Temporal client no refused call may reach. */
const noTemporal = new Proxy({}, { get: (_t, name) => { throw new Error(`a refused call used the Temporal client (${String(name)})`) } }) as Client

beforeAll(async () => {
  ;({ db, drop } = await createTestDatabase('text_inputs'))
  userId = (await createUser(db, { username: 'buyer', password: 'long enough password', role: 'customer' })).id
  adminId = (await createUser(db, { username: 'boss', password: 'long enough password', role: 'admin' })).id
})
afterAll(async () => {
  await drop()
})

async function tables(): Promise<number[]> {
  return Promise.all(['orders', 'payments', 'broadcasts', 'ledgerEntries'].map(async (t) => Number((await db(t).count<{ c: string }[]>('* as c').first())!.c)))
}

describe('service inputs', () => {
  it('placeOrder refuses a control character in the note or label, a bidi override in the label, and ids past 2147483647', async () => {
    const before = await tables()
    for (const [input, field] of [
      [{ note: 'a\u0000b' }, 'note'],
      [{ requestedUsername: 'shop\u0007' }, 'requestedUsername'],
      [{ requestedUsername: 'shop\u202egpj' }, 'requestedUsername'],
      [{ idempotencyKey: 'key\u0000' }, 'idempotencyKey'],
      [{ planId: 2_147_483_648 }, 'planId'],
    ] as const) {
      const error = await placeOrder(db, noTemporal, { userId, planId: 1, locationId: 1, ...input }).catch((e: unknown) => e)
      expect(error, JSON.stringify(input)).toBeInstanceOf(OrderRefusedError)
      expect(error).toMatchObject({ code: 'INVALID_INPUT', field })
    }
    expect(await tables()).toEqual(before)
  })

  it('submitPayment refuses a note with control characters; requestRefund and startBroadcast refuse theirs before any workflow', async () => {
    const before = await tables()
    await expect(submitPayment(db, noTemporal, { userId, methodId: 1, amount: '1000', note: 'x\u0000' })).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'note' })
    await expect(submitPayment(db, noTemporal, { userId, methodId: 2_147_483_648, amount: '1000' })).rejects.toBeInstanceOf(PaymentRefusedError)
    await expect(decidePayment(noTemporal, 1, { decision: 'reject', adminId, note: 'no\u0000' })).rejects.toMatchObject({ code: 'INVALID_INPUT', field: 'note' })
    await expect(requestRefund(db, noTemporal, { accountId: 1, requestedBy: adminId, reason: 'gone\u0000' })).rejects.toMatchObject({ code: 'INVALID_INPUT' })
    await expect(requestRefund(db, noTemporal, { accountId: 1, requestedBy: adminId, reason: 'gone\u0000' })).rejects.toBeInstanceOf(RefundRefusedError)
    await expect(startBroadcast(db, noTemporal, { createdBy: adminId, text: 'hello\u0000', audience: 'all' })).rejects.toBeInstanceOf(BroadcastRefusedError)
    await expect(startBroadcast(db, noTemporal, { createdBy: adminId, text: 'hello\u001b[31m', audience: 'all' })).rejects.toThrow(/control characters/)
    expect(await tables()).toEqual(before)
  })
})

describe('outside input that cannot be refused', () => {
  it('a Telegram name with NUL and direction overrides is stored cleaned, so the person can still use the bot', async () => {
    const { user, created } = await ensureTelegramUser(db, { telegramId: '990001', firstName: 'A\u0000li', lastName: '\u202eRezaei\u202c' }, 'fa')
    expect(created).toBe(true)
    expect(user.displayName).toBe('Ali Rezaei')
  })
})

describe('command-line input', () => {
  it('flags with control characters, names with bidi overrides and ids past 2147483647 are usage errors, not database errors', async () => {
    const { flags } = parseArgv(['--note', 'a\u001bb', '--text', 'line one\nline two', '--name', 'plan\u202eexe', '--reason', 'one\ntwo'])
    expect(() => requireFlag(flags, 'note')).toThrow(UsageError)
    expect(() => requireFlag(flags, 'note')).toThrow(/--note must not contain control characters/)
    expect(requireFlag(flags, 'text')).toBe('line one\nline two')
    expect(() => requireFlag(flags, 'name', 'name')).toThrow(/direction override/)
    expect(() => optionalFlag(flags, 'reason', 'singleLine')).toThrow(UsageError)
    expect(idArg('42', 'ORDER_ID')).toBe(42)
    for (const bad of ['2147483648', '0', '-1', '1.5', undefined]) expect(() => idArg(bad, 'ORDER_ID'), String(bad)).toThrow(UsageError)
    await expect(resolveUser(db, '2147483648')).rejects.toBeInstanceOf(UsageError)
    // Refused before the database is opened: a Telegram id past what bigint holds.
    const { flags: tooLong } = parseArgv(['--username', 'tg_big', '--telegram-id', '99999999999999999999999'])
    await expect(customerCommands[0]!.run({ args: [], flags: tooLong, out: () => {} })).rejects.toThrow(/--telegram-id must be a Telegram user id/)
    expect((await resolveUser(db, String(userId))).id).toBe(userId)
  })
})
