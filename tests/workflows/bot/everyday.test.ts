import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { submitPayment } from '#db/payments.ts'
import { createLinkCode } from '#db/telegram.ts'
import { paymentStatusQuery } from '#temporal/messages.ts'
import { createUser } from '#db/users.ts'
import { ledgerEntries, waitFor } from '../harness.ts'
import { pdfBytes, startBotWorld, type BotWorld } from './world.ts'

let w: BotWorld
const tg = () => w.h.telegram

beforeAll(async () => {
  w = await startBotWorld('bot_everyday', { settings: { rateLimit: { limit: 20, windowMs: 3_000 } } })
})
afterAll(async () => {
  if (w?.problems.length) process.stderr.write(`bot warnings:\n${w.problems.join('\n')}\n`)
  await w?.stop()
})

function mark(chatId: number): number {
  return tg().messages(chatId).length
}
function after(chatId: number, from: number, match: (text: string) => boolean, what: string, timeoutMs = 20_000) {
  return waitFor(what, () => tg().messages(chatId).slice(from).find((m) => match(tg().lastText(m))), timeoutMs)
}

describe('linking', () => {
  test('an agent links their web account with the one-time code from the profile page and then sees agent prices', async () => {
    const agent = await createUser(w.h.db, { username: 'shop_ali', password: 'agent-password', role: 'agent', locale: 'en' })
    await w.h.db('agents').insert({ userId: agent.id, firstName: 'Ali', lastName: 'Shop' })
    const person = tg().person(6101, { firstName: 'Ali', languageCode: 'fa' })

    // First contact makes a customer record for this Telegram account; linking replaces it, as it was never used.
    const m0 = mark(6101)
    await tg().sendText(person, '/start')
    await after(6101, m0, (t) => t.includes('خوش آمدید'), 'the welcome')
    const placeholder = await w.h.db('users').where({ telegramId: '6101' }).first()
    expect(placeholder.role).toBe('customer')

    const wrong = mark(6101)
    await tg().sendText(person, '/link ABCD-EFGH')
    await after(6101, wrong, (t) => t.includes('این کد معتبر نیست'), 'the refusal of a wrong code')

    const { code, expiresAt } = await createLinkCode(w.h.db, agent.id)
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/)
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now())
    const m1 = mark(6101)
    await tg().sendText(person, `/start link-${code}`)
    await after(6101, m1, (t) => t.includes('shop_ali') && t.includes('reseller'), 'the link confirmation in the account language')
    expect(await w.h.db('users').where({ id: agent.id }).first()).toMatchObject({ telegramId: '6101' })
    expect(await w.h.db('users').where({ id: placeholder.id }).first()).toBeUndefined()

    // The same code again is refused: it was used.
    const m2 = mark(6101)
    await tg().sendText(person, `/link ${code.toLowerCase()}`)
    await after(6101, m2, (t) => t.includes('already used'), 'the refusal of a used code')

    // The agent sees the agent price.
    const m3 = mark(6101)
    await tg().sendText(person, '/buy')
    const menu = await after(6101, m3, (t) => t.includes('Choose a location'), 'the location list')
    await tg().press(person, menu, `buy:l:${w.h.locationId}`)
    await waitFor('the plans', () => tg().buttons(menu).some((b) => b.data === `buy:p:${w.h.locationId}:${w.h.planId}`))
    expect(tg().buttons(menu)[0]!.text).toContain('120,000 Toman')
  })

  test('a Telegram account that already bought something cannot be moved to another web account', async () => {
    const web = await createUser(w.h.db, { username: 'web_user', password: 'web-password', role: 'customer', locale: 'en' })
    const person = tg().person(6102, { firstName: 'Neda' })
    const m0 = mark(6102)
    await tg().sendText(person, '/start')
    await after(6102, m0, (t) => t.includes('خوش آمدید'), 'the welcome')
    const own = await w.h.db('users').where({ telegramId: '6102' }).first()
    await w.h.db('ledgerEntries').insert({
      walletUserId: own.id, type: 'CHARGE_MANUAL', confirmedDelta: 1000, pendingDelta: 0, confirmedBefore: 0, confirmedAfter: 1000, pendingBefore: 0, pendingAfter: 0, idempotencyKey: `test:${own.id}`,
    })
    await w.h.db('wallets').where({ userId: own.id }).update({ confirmed: 1000 })
    const { code } = await createLinkCode(w.h.db, web.id)
    const m1 = mark(6102)
    await tg().sendText(person, `/link ${code}`)
    await after(6102, m1, (t) => t.includes('نمی‌تواند به حساب دیگری منتقل شود'), 'the refusal')
    expect((await w.h.db('users').where({ id: web.id }).first()).telegramId).toBeNull()
  })
})

describe('menus, language and wallet', () => {
  test('the language is switched with a button and kept on the user; the wallet shows confirmed and pending and the history', async () => {
    const person = tg().person(6201, { firstName: 'Omid', languageCode: 'fa' })
    const m0 = mark(6201)
    await tg().sendText(person, '/start')
    const menu = await after(6201, m0, (t) => t.includes('خوش آمدید'), 'the welcome')
    await tg().press(person, menu, 'menu:lang')
    await waitFor('the language choice', () => tg().buttons(menu).some((b) => b.data === 'lang:en'))
    await tg().press(person, menu, 'lang:en')
    await waitFor('English', () => tg().lastText(menu).includes('Language set to English'))
    expect((await w.h.db('users').where({ telegramId: '6201' }).first()).locale).toBe('en')
    expect(tg().buttons(menu).map((b) => b.text)).toContain('👛 Wallet')

    await tg().press(person, menu, 'menu:wallet')
    await waitFor('the wallet', () => tg().lastText(menu).includes('Confirmed: <b>0 Toman</b>'))
    expect(tg().lastText(menu)).toContain('Pending review: 0 Toman')
    await tg().press(person, menu, 'wal:hist')
    await waitFor('the empty history', () => tg().lastText(menu).includes('No transactions yet'))
  })

  test('a top-up by a PDF receipt goes pending at once, reaches the admins with the file, and /pending lets an admin approve it', async () => {
    const person = tg().person(6201, { firstName: 'Omid' })
    const user = await w.h.db('users').where({ telegramId: '6201' }).first()
    const m0 = mark(6201)
    await tg().sendText(person, '/topup')
    const methods = await after(6201, m0, (t) => t.includes('Choose how you will pay'), 'the methods')
    await tg().press(person, methods, `wal:tm:${w.cardMethodId}`)
    await waitFor('the amount question', () => tg().lastText(methods).includes('How much?'))
    const m1 = mark(6201)
    await tg().sendText(person, 'a lot')
    await after(6201, m1, (t) => t.includes('whole number'), 'the amount refusal')
    await tg().sendText(person, '۲۵۰٬۰۰۰')
    await after(6201, m1, (t) => t.includes('exactly 250,000 Toman') && t.includes('6037 9912 3456 7890'), 'the card and the exact amount')
    // A sticker or a video is not a receipt either.
    const m2 = mark(6201)
    await tg().deliver({ message: { message_id: 1, date: 0, chat: { id: 6201, type: 'private' }, from: person, sticker: { file_id: 's', file_unique_id: 's', type: 'regular', width: 1, height: 1, is_animated: false, is_video: false } } })
    await after(6201, m2, (t) => t.includes('photo (JPEG, PNG, WebP) or a PDF'), 'the sticker refusal')
    // A file that claims to be a PDF but is not one is refused by its content.
    await tg().sendDocument(person, Buffer.from('<html>not a receipt</html>'), { mimeType: 'application/pdf', fileName: 'receipt.pdf' })
    await after(6201, m2, (t) => t.includes('photo (JPEG, PNG, WebP) or a PDF file') && t.startsWith('❌'), 'the content refusal')
    expect(await w.h.db('payments').where({ userId: user.id })).toHaveLength(0)

    await tg().sendDocument(person, pdfBytes(), { mimeType: 'application/pdf', fileName: 'receipt.pdf' })
    await after(6201, m2, (t) => t.includes('Receipt received'), 'the receipt confirmation')
    const payment = await w.h.db('payments').where({ userId: user.id }).first()
    expect(payment).toMatchObject({ amount: '250000', orderId: null, receiptMime: 'application/pdf' })
    w.h.started.add(`payment-${payment.id}`)
    await waitFor('pending credit', async () => (await w.h.db('wallets').where({ userId: user.id }).first()).pending === '250000')
    await w.waitForMessage(-1009000, (m) => m.kind === 'document' && m.text.includes(`#${payment.id}`) && m.text.includes('افزایش موجودی'), 'the PDF in the admin group')

    const [, reza] = w.admins
    const m3 = mark(7002)
    await tg().sendText(reza!.person, '/pending')
    await after(7002, m3, (t) => t.includes('receipt(s) waiting'), 'the pending list')
    const copy = await after(7002, m3, (t) => t.includes(`Payment #${payment.id}`), 'the receipt copy')
    expect(copy.kind).toBe('document')
    await tg().press(reza!.person, copy, `pay:approve:${payment.id}`)
    await waitFor('confirmed credit', async () => (await w.h.db('wallets').where({ userId: user.id }).first()).confirmed === '250000')
    expect(await ledgerEntries(w.h.db, { type: 'CHARGE_APPROVED', userId: user.id })).toHaveLength(1)
    await waitFor('the copy shows the decision', () => tg().lastText(copy).includes('Reza'))

    const m4 = mark(6201)
    await tg().sendText(person, '/wallet')
    const wallet = await after(6201, m4, (t) => t.includes('Confirmed: <b>250,000 Toman</b>'), 'the wallet')
    await tg().press(person, wallet, 'wal:hist')
    await waitFor('the history', () => tg().lastText(wallet).includes('Receipt approved: +250,000 Toman'))
    expect(tg().lastText(wallet)).toContain('Receipt submitted: +250,000 Toman (pending)')
  })
})

describe('abuse and odd input', () => {
  test('unknown text gets a short help reply; a stale button is answered; a customer pressing Approve is refused', async () => {
    const person = tg().person(6301, { firstName: 'Kian', languageCode: 'en' })
    const m0 = mark(6301)
    await tg().sendText(person, 'hello?')
    await after(6301, m0, (t) => t.includes('Please send /start first'), 'the start hint')
    await tg().sendText(person, '/start')
    const menu = await after(6301, m0, (t) => t.includes('Welcome'), 'the welcome')
    const m1 = mark(6301)
    await tg().sendText(person, 'what can you do')
    await after(6301, m1, (t) => t.includes('I did not understand that'), 'the help reply')

    const before = tg().answers().length
    await tg().pressData(person, menu, 'something:old')
    await waitFor('the stale button answer', () => tg().answers().length > before)
    expect(tg().answers().at(-1)!.text).toContain('expired')
    await tg().pressData(person, menu, 'acc:s:99999999999999999999')
    await waitFor('the forged button answer', () => tg().answers().length > before + 1)
    expect(tg().answers().at(-1)!.text).toContain('expired')
    await tg().pressData(person, menu, 'pay:approve:1')
    await waitFor('the refusal', () => tg().answers().length > before + 2)
    expect(tg().answers().at(-1)).toMatchObject({ text: 'Only admins can do this', showAlert: true })
    expect((await w.h.db('payments').where({ id: 1 }).first())?.status ?? 'none').not.toBe('REJECTED')
  })

  test('a flood of messages is cut off after the per-person limit with one "slow down" reply', async () => {
    const person = tg().person(6401, { firstName: 'Flood', languageCode: 'en' })
    // Start at the beginning of a rate-limit window, so the whole flood falls into one.
    await new Promise((r) => setTimeout(r, 3_000 - (Date.now() % 3_000) + 50))
    const m0 = mark(6401)
    for (let i = 0; i < 40; i++) await tg().sendText(person, `spam ${i}`)
    await w.settle()
    const replies = tg().messages(6401).slice(m0).map((m) => m.text)
    expect(replies.filter((t) => t.includes('Too many messages'))).toHaveLength(1)
    expect(replies.length).toBe(20 + 1)
  })

  test("the bot's own replies wait out flood control and are sent once", async () => {
    const person = tg().person(6501, { firstName: 'Pari', languageCode: 'en' })
    const m0 = mark(6501)
    tg().floodNext(1, 1, (method, params) => method === 'sendMessage' && String(params.chat_id) === '6501')
    const sentAt = Date.now()
    await tg().sendText(person, '/start')
    await after(6501, m0, (t) => t.includes('Welcome'), 'the welcome after the wait')
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(950)
    expect(tg().messages(6501).slice(m0)).toHaveLength(1)
  })

  test('an agent whose credit went negative sees until when they have to top up', async () => {
    const person = tg().person(6101, { firstName: 'Ali' })
    const agent = await w.h.db('users').where({ telegramId: '6101' }).first()
    const since = new Date('2026-11-21T08:00:00Z')
    await w.h.db('wallets').where({ userId: agent.id }).update({ negativeSince: since })
    const m0 = mark(6101)
    await tg().sendText(person, '/wallet')
    await after(6101, m0, (t) => t.includes('negative since 21 Nov 2026, 11:30') && t.includes('still negative at 22 Nov 2026, 11:30'), 'the deadline')
    await w.h.db('wallets').where({ userId: agent.id }).update({ negativeSince: null })
  })

  test('Approve on an online (gateway) payment is refused with a clear answer; nothing is credited', async () => {
    const [method] = await w.h.db('paymentMethods').insert({ kind: 'ZARINPAL', titleFa: 'زرین‌پال', titleEn: 'Zarinpal' }).returning('id')
    const payer = await w.h.db('users').where({ telegramId: '6101' }).first()
    const { payment, workflowId } = await submitPayment(w.h.db, w.h.client, { userId: payer.id, methodId: method.id, amount: '90000' })
    w.h.started.add(workflowId)
    await waitFor('the gateway payment to start', async () => (await w.h.client.workflow.getHandle(workflowId).query(paymentStatusQuery)).confirmedBy === 'gateway')
    const [sara] = w.admins
    const m0 = mark(7001)
    await tg().sendText(sara!.person, '/help')
    const help = await after(7001, m0, (t) => t.includes('/pending'), 'the admin help')
    const before = tg().answers().length
    await tg().pressData(sara!.person, help, `pay:approve:${payment.id}`)
    await waitFor('the answer', () => tg().answers().length > before)
    expect(tg().answers().at(-1)).toMatchObject({ text: 'This payment is made online; the gateway confirms it, not an admin', showAlert: true })
    expect(await ledgerEntries(w.h.db, { type: 'CHARGE_APPROVED', userId: payer.id })).toEqual([])
  })

  test('/cancel leaves a waiting step; a disabled user is told so', async () => {
    const person = tg().person(6201, { firstName: 'Omid' })
    const m0 = mark(6201)
    await tg().sendText(person, '/topup')
    const methods = await after(6201, m0, (t) => t.includes('Choose how you will pay'), 'the methods')
    await tg().press(person, methods, `wal:tm:${w.cardMethodId}`)
    await waitFor('the amount question', () => tg().lastText(methods).includes('How much?'))
    const m1 = mark(6201)
    await tg().sendText(person, '/cancel')
    await after(6201, m1, (t) => t === 'Cancelled.', 'cancelled')
    await tg().sendText(person, '5000')
    await after(6201, m1, (t) => t.includes('I did not understand that'), 'no amount step any more')

    await w.h.db('users').where({ telegramId: '6201' }).update({ status: 'disabled' })
    const m2 = mark(6201)
    await tg().sendText(person, '/wallet')
    await after(6201, m2, (t) => t.includes('Your account is disabled'), 'the disabled notice')
  })
})
