import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createLinkCode, ensureTelegramUser, linkTelegramByCode, looksLikeLinkCode, normalizeLinkCode } from '#db/telegram.ts'
import { createUser } from '#db/users.ts'
import { createTestDatabase } from '#tests/setup/database.ts'

let database: Awaited<ReturnType<typeof createTestDatabase>>
beforeAll(async () => {
  database = await createTestDatabase('bot_link_codes')
})
afterAll(async () => {
  await database?.drop()
})

describe('one-time link codes', () => {
  test('codes are typed the way people type them: any case, dashes, spaces, Persian digits', () => {
    expect(normalizeLinkCode(' abcd-ef۲۳ ')).toBe('ABCDEF23')
    expect(looksLikeLinkCode('abcd efgh')).toBe(true)
    expect(looksLikeLinkCode('ABCD-EFG0')).toBe(false)
    expect(looksLikeLinkCode('short')).toBe(false)
  })

  test('a new code voids the older one; a code works once and only before it expires; only its hash is stored', async () => {
    const { db } = database
    const user = await createUser(db, { username: 'linker', password: 'linker-password', role: 'customer' })
    const first = await createLinkCode(db, user.id)
    const second = await createLinkCode(db, user.id)
    const stored = await db('telegramLinkCodes').where({ userId: user.id }).select('codeHash')
    expect(stored.map((r: { codeHash: string }) => r.codeHash).join()).not.toContain(second.code.replace('-', ''))

    expect(await linkTelegramByCode(db, { code: first.code, telegramId: '4001' })).toEqual({ ok: false, reason: 'expired' })
    const linked = await linkTelegramByCode(db, { code: second.code.toLowerCase(), telegramId: '4001', telegramUsername: 'linker_tg' })
    expect(linked).toMatchObject({ ok: true, alreadyLinked: false })
    expect(await db('users').where({ id: user.id }).first()).toMatchObject({ telegramId: '4001', telegramUsername: 'linker_tg' })
    expect(await linkTelegramByCode(db, { code: second.code, telegramId: '4001' })).toEqual({ ok: false, reason: 'used' })
    expect(await linkTelegramByCode(db, { code: 'ZZZZ-ZZZZ', telegramId: '4001' })).toEqual({ ok: false, reason: 'invalid' })

    const late = await createLinkCode(db, user.id, { ttlMs: 60_000, now: new Date(Date.now() - 120_000) })
    expect(await linkTelegramByCode(db, { code: late.code, telegramId: '4002' })).toEqual({ ok: false, reason: 'expired' })
  })

  test('the same code pressed twice at once links once', async () => {
    const { db } = database
    const user = await createUser(db, { username: 'racer', password: 'racer-password', role: 'agent' })
    const { code } = await createLinkCode(db, user.id)
    const results = await Promise.all([linkTelegramByCode(db, { code, telegramId: '4101' }), linkTelegramByCode(db, { code, telegramId: '4101' })])
    expect(results.filter((r) => r.ok)).toHaveLength(1)
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'used' }])
  })

  test('first contact makes a customer with a wallet; a taken tg<id> username gets a suffix instead of failing', async () => {
    const { db } = database
    await createUser(db, { username: 'tg4201', password: 'someone-else', role: 'customer' })
    const made = await ensureTelegramUser(db, { telegramId: '4201', firstName: 'Lale', languageCode: 'en' }, 'fa')
    expect(made.created).toBe(true)
    expect(made.user).toMatchObject({ role: 'customer', locale: 'en', displayName: 'Lale', telegramId: '4201' })
    expect(made.user.username).toMatch(/^tg4201_[a-z0-9]{4}$/)
    expect(await db('wallets').where({ userId: made.user.id }).first()).toBeDefined()
    const again = await ensureTelegramUser(db, { telegramId: '4201', firstName: 'Lale', username: 'lale' }, 'fa')
    expect(again).toMatchObject({ created: false, user: { id: made.user.id, telegramUsername: 'lale' } })
  })
})
