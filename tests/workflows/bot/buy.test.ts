import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { adjustWallet } from '#db/payments.ts'
import { GB, ledgerEntries, panelUsers, replayHistories, waitFor } from '../harness.ts'
import { ADMIN_GROUP, jpegBytes, startBotWorld, type BotWorld } from './world.ts'

let w: BotWorld
const CUSTOMER = 5101

beforeAll(async () => {
  w = await startBotWorld('bot_buy')
})
afterAll(async () => {
  if (w?.problems.length) process.stderr.write(`bot warnings:\n${w.problems.join('\n')}\n`)
  await w?.stop()
})

const tg = () => w.h.telegram

/** Where the conversation with a chat stands now; `after(mark, …)` finds what the bot sends from here on. */
function mark(chatId: number | string): number {
  return tg().messages(chatId).length
}
function after(chatId: number | string, from: number, match: (m: ReturnType<FakeTg['messages']>[number], text: string) => boolean, what: string, timeoutMs = 20_000) {
  return waitFor(what, () => tg().messages(chatId).slice(from).find((m) => match(m, tg().lastText(m))), timeoutMs)
}
type FakeTg = BotWorld['h']['telegram']

describe('buying in Telegram', () => {
  test('a customer buys with a card-to-card receipt; two admins approve at once; one credit, one "already approved"; link and QR delivered', async () => {
    const customer = tg().person(CUSTOMER, { firstName: 'Maryam', languageCode: 'fa' })
    await tg().sendText(customer, '/start')
    const welcome = await w.waitForMessage(CUSTOMER, (_m, t) => t.includes('خوش آمدید'), 'the welcome')
    const user = await w.h.db('users').where({ telegramId: String(CUSTOMER) }).first()
    expect(user).toMatchObject({ role: 'customer', locale: 'fa', username: `tg${CUSTOMER}`, displayName: 'Maryam' })
    expect(tg().buttons(welcome).map((b) => b.data)).toEqual(['menu:buy', 'menu:accounts', 'menu:wallet', 'menu:help', 'menu:lang'])

    // location → plan (public price for a customer) → card to card
    await tg().press(customer, welcome, 'menu:buy')
    await waitFor('the location list', () => tg().lastText(welcome).includes('لوکیشن'))
    await tg().press(customer, welcome, `buy:l:${w.h.locationId}`)
    await waitFor('the plan list', () => tg().buttons(welcome).some((b) => b.data === `buy:p:${w.h.locationId}:${w.h.planId}`))
    expect(tg().buttons(welcome)[0]!.text).toContain('۱۵۰٬۰۰۰ تومان')
    await tg().press(customer, welcome, `buy:p:${w.h.locationId}:${w.h.planId}`)
    await waitFor('the payment choice', () => tg().buttons(welcome).some((b) => b.data?.endsWith(`:c:${w.cardMethodId}`)))
    await tg().press(customer, welcome, `buy:p:${w.h.locationId}:${w.h.planId}:c:${w.cardMethodId}`)
    await waitFor('the card instructions', () => tg().lastText(welcome).includes('6037 9912 3456 7890'))
    const instructions = tg().lastText(welcome)
    expect(instructions).toContain('Ali Rezaei')
    expect(instructions).toContain('دقیقاً ۱۵۰٬۰۰۰ تومان')
    const order = await waitFor('the order waiting for its payment', () => w.h.db('orders').where({ userId: user.id, status: 'awaiting_payment' }).first())
    expect(order).toMatchObject({ payMethod: 'receipt', price: '150000' })

    // text is not a receipt
    const before = tg().messages(CUSTOMER).length
    await tg().sendText(customer, 'I paid, ref 12345')
    await w.waitForMessage(CUSTOMER, (_m, t) => t.includes('متن به عنوان رسید پذیرفته نمی‌شود'), 'the text refusal')
    expect(await w.h.db('payments').where({ userId: user.id })).toHaveLength(0)
    expect(tg().messages(CUSTOMER).length).toBe(before + 1)

    // the photo is the receipt
    await tg().sendPhoto(customer, jpegBytes())
    await w.waitForMessage(CUSTOMER, (_m, t) => t.includes('رسید دریافت شد'), 'the receipt confirmation')
    const payment = await w.h.db('payments').where({ orderId: order.id }).first()
    expect(payment).toMatchObject({ status: 'PENDING', amount: '150000', receiptMime: 'image/jpeg' })
    w.h.started.add(`payment-${payment.id}`).add(`order-${order.id}`)

    // the admins get the photo itself, with who, how much, how and the two buttons
    const adminCopy = await w.waitForMessage(ADMIN_GROUP, (m) => m.kind === 'photo' && m.text.includes(`#${payment.id}`), 'the receipt in the admin group')
    expect(adminCopy.text).toContain('Maryam')
    expect(adminCopy.text).toContain('۱۵۰٬۰۰۰ تومان')
    expect(adminCopy.text).toContain('کارت به کارت')
    expect(tg().buttons(adminCopy).map((b) => b.data)).toEqual([`pay:approve:${payment.id}`, `pay:reject:${payment.id}`])
    const progress = await w.waitForMessage(CUSTOMER, (_m, t) => t.includes(`سفارش #${order.id}`) && t.includes('در انتظار بررسی رسید'), 'the progress message')

    // both admins press Approve on the same message at the same moment
    const [sara, reza] = w.admins
    await Promise.all([tg().press(sara!.person, adminCopy, `pay:approve:${payment.id}`), tg().press(reza!.person, adminCopy, `pay:approve:${payment.id}`)])
    await waitFor('both presses answered', () => tg().answers().filter((a) => a.text).length >= 2 && tg().answers())
    const answers = tg().answers().map((a) => a.text ?? '')
    const approved = answers.filter((a) => a.includes('Payment approved'))
    const already = answers.filter((a) => a.startsWith('Already approved by'))
    expect(approved).toHaveLength(1)
    expect(already).toHaveLength(1)
    const winner = approved.length === 1 ? (await w.h.db('payments').where({ id: payment.id }).first()).decidedBy : null
    const winnerName = w.admins.find((a) => a.id === winner)!.name
    expect(already[0]).toContain(winnerName)
    expect(await ledgerEntries(w.h.db, { type: 'CHARGE_APPROVED', userId: user.id })).toHaveLength(1)

    // the admin copy now says who approved it, and has no buttons left
    await waitFor('the admin copy updated', () => tg().lastText(adminCopy).includes(`تأیید توسط ${winnerName}`))
    expect(tg().buttons(adminCopy)).toEqual([])

    // the customer's progress message follows the order to delivery; then the QR code with the link
    await waitFor('the progress message edited to delivered', () => tg().lastText(progress).includes('تحویل شد'), 60_000)
    const qr = await w.waitForMessage(CUSTOMER, (m) => m.kind === 'photo', 'the QR code photo', 30_000)
    const account = await w.h.db('accounts').where({ orderId: order.id }).first()
    expect(qr.text).toContain(account.subscriptionUrl)
    expect(qr.text).toContain('راهنمای اتصال')
    const photoCall = tg().calls.find((c) => c.method === 'sendPhoto' && String(c.params.chat_id) === String(CUSTOMER))
    // The QR code is uploaded as a PNG file (a multipart part the photo field points at), not sent as a link.
    const attached = String(photoCall?.params.photo ?? '')
    expect(attached).toMatch(/^attach:\/\//)
    expect(String(photoCall?.params[attached.slice('attach://'.length)] ?? '')).toContain('PNG\r\n')
    expect(progress.edits.length).toBeGreaterThanOrEqual(1)
    expect(tg().messages(CUSTOMER).filter((m) => m.text.includes(`سفارش #${order.id}`) && m.text.includes('در انتظار'))).toHaveLength(1)

    expect((await ledgerEntries(w.h.db, { referenceType: 'order', referenceId: order.id })).map((e) => e.type)).toEqual(['ORDER_DEBIT'])
    expect(panelUsers(w.h.marzban).filter((u) => u.username === account.panelUsername)).toHaveLength(1)
    expect(BigInt(account.dataLimitBytes)).toBe(BigInt(50 * GB))
  })

  test('a rejected receipt: the admin is asked for a reason, the payer reads it and sends a new receipt without choosing again', async () => {
    const customer = tg().person(CUSTOMER, { firstName: 'Maryam', languageCode: 'fa' })
    const user = await w.h.db('users').where({ telegramId: String(CUSTOMER) }).first()
    const start = mark(CUSTOMER)
    await tg().sendText(customer, '/buy')
    const menu = await after(CUSTOMER, start, (_m, t) => t.includes('لوکیشن'), 'the location list')
    await tg().press(customer, menu, `buy:l:${w.h.locationId}`)
    await waitFor('plans', () => tg().buttons(menu).some((b) => b.data === `buy:p:${w.h.locationId}:${w.h.planId}`))
    await tg().press(customer, menu, `buy:p:${w.h.locationId}:${w.h.planId}`)
    await waitFor('payment choice', () => tg().buttons(menu).some((b) => b.data?.endsWith(`:c:${w.cardMethodId}`)))
    await tg().press(customer, menu, `buy:p:${w.h.locationId}:${w.h.planId}:c:${w.cardMethodId}`)
    await waitFor('card instructions', () => tg().lastText(menu).includes('6037 9912 3456 7890'))
    const order = await waitFor('the new order waiting for its payment', () => w.h.db('orders').where({ userId: user.id, status: 'awaiting_payment' }).orderBy('id', 'desc').first())

    const beforeReceipt = mark(CUSTOMER)
    await tg().sendPhoto(customer, jpegBytes())
    await after(CUSTOMER, beforeReceipt, (_m, t) => t.includes('رسید دریافت شد'), 'confirmation')
    const payment = await waitFor('the payment', () => w.h.db('payments').where({ orderId: order.id }).first())
    w.h.started.add(`payment-${payment.id}`).add(`order-${order.id}`)
    const adminCopy = await w.waitForMessage(ADMIN_GROUP, (m) => m.text.includes(`#${payment.id}`) && m.kind === 'photo', 'admin copy')

    const [sara] = w.admins
    await tg().press(sara!.person, adminCopy, `pay:reject:${payment.id}`)
    const prompt = await w.waitForMessage(ADMIN_GROUP, (_m, t) => t.includes(`#${payment.id}`) && t.includes('Send the reason'), 'the reason prompt')
    expect(prompt.replyMarkup).toMatchObject({ force_reply: true })
    await tg().sendText(sara!.person, 'The amount on the receipt is 15,000 not 150,000', { chat: tg().group(ADMIN_GROUP), replyTo: prompt })

    const rejected = await after(CUSTOMER, beforeReceipt, (m, t) => t.includes('رسید شما رد شد') && tg().buttons(m).some((b) => b.data === `buy:resend:${order.id}`), 'the rejection with a resend button', 30_000)
    expect(tg().lastText(rejected)).toContain('The amount on the receipt is 15,000 not 150,000')
    expect((await w.h.db('payments').where({ id: payment.id }).first()).status).toBe('REJECTED')
    await waitFor('the admin copy shows the rejection', () => tg().lastText(adminCopy).includes('رد توسط Sara'))

    // a new receipt, for the same purchase, without choosing location and plan again
    const beforeResend = mark(CUSTOMER)
    await tg().press(customer, rejected, `buy:resend:${order.id}`)
    const again = await after(CUSTOMER, beforeResend, (_m, t) => t.includes('6037 9912 3456 7890'), 'the card again')
    expect(tg().lastText(again)).toContain('دقیقاً ۱۵۰٬۰۰۰ تومان')
    await tg().sendPhoto(customer, jpegBytes())
    const second = await waitFor('the second payment', async () => {
      const rows = await w.h.db('payments').where({ userId: user.id, status: 'PENDING' })
      return rows[0]
    })
    w.h.started.add(`payment-${second.id}`)
    if (second.orderId) w.h.started.add(`order-${second.orderId}`)
    const copy2 = await w.waitForMessage(ADMIN_GROUP, (m) => m.text.includes(`#${second.id}`) && m.kind === 'photo', 'second admin copy')
    await tg().press(sara!.person, copy2, `pay:approve:${second.id}`)
    const delivered = await waitFor('the re-paid order delivered', () => w.h.db('orders').where({ userId: user.id, status: 'delivered' }).where('id', '>', order.id).first(), 60_000)
    expect(second.orderId).toBe(delivered.id)
    expect(delivered.planId).toBe(order.planId)
    expect(delivered.locationId).toBe(order.locationId)
    await after(CUSTOMER, beforeResend, (m, t) => m.kind === 'photo' && t.includes(`fp_${delivered.id}`), 'the QR of the re-paid order', 30_000)
  })

  test('renew from My accounts at the buyer price, paid from the wallet, with days and traffic carried over', async () => {
    const customer = tg().person(CUSTOMER, { firstName: 'Maryam', languageCode: 'fa' })
    const user = await w.h.db('users').where({ telegramId: String(CUSTOMER) }).first()
    await adjustWallet(w.h.db, w.h.client, { userId: user.id, amount: '200000', note: 'test credit', actorUserId: w.h.adminId })
    const account = await w.h.db('accounts').where({ userId: user.id, status: 'active' }).orderBy('id').first()
    const expiresBefore = new Date(account.expiresAt).getTime()

    const start = mark(CUSTOMER)
    await tg().sendText(customer, '/accounts')
    const list = await after(CUSTOMER, start, (_m, t) => t.includes('اکانت‌های شما'), 'the account list')
    await tg().press(customer, list, `acc:s:${account.id}`)
    await waitFor('the account card', () => tg().lastText(list).includes(account.panelUsername) && tg().lastText(list).includes('روز مانده'))
    expect(tg().lastText(list)).toContain('مصرف')
    await tg().press(customer, list, `acc:r:${account.id}`)
    await waitFor('renew plans', () => tg().buttons(list).some((b) => b.data === `acc:r:${account.id}:${w.h.planId}`))
    await tg().press(customer, list, `acc:r:${account.id}:${w.h.planId}`)
    await waitFor('renew summary', () => tg().buttons(list).some((b) => b.data === `acc:r:${account.id}:${w.h.planId}:w`))
    expect(tg().lastText(list)).toContain('۱۵۰٬۰۰۰ تومان')
    await tg().press(customer, list, `acc:r:${account.id}:${w.h.planId}:w`)
    const renewal = await waitFor('the renewal delivered', () => w.h.db('orders').where({ userId: user.id, kind: 'renew', status: 'delivered' }).first(), 60_000)
    w.h.started.add(`order-${renewal.id}`)
    expect(renewal).toMatchObject({ accountId: account.id, price: '150000', payMethod: 'wallet' })
    const renewed = await w.h.db('accounts').where({ id: account.id }).first()
    expect(new Date(renewed.expiresAt).getTime() - expiresBefore).toBeGreaterThanOrEqual(30 * 86_400_000 - 60_000)
    // Nothing was used: the remaining 50 GB are kept and the plan's 50 GB added.
    expect(BigInt(renewed.dataLimitBytes)).toBe(BigInt(100 * GB))
    expect((await ledgerEntries(w.h.db, { referenceType: 'order', referenceId: renewal.id })).map((e) => [e.type, e.confirmedDelta])).toEqual([['ORDER_DEBIT', '-150000']])
    await after(CUSTOMER, start, (m, t) => m.kind === 'photo' && t.includes(account.panelUsername), 'the renewed link', 30_000)
  })

  test('delete from My accounts shows the refund quote, asks to confirm, and refunds once', async () => {
    const customer = tg().person(CUSTOMER, { firstName: 'Maryam', languageCode: 'fa' })
    const user = await w.h.db('users').where({ telegramId: String(CUSTOMER) }).first()
    const account = await w.h.db('accounts').where({ userId: user.id, status: 'active' }).orderBy('id', 'desc').first()
    const walletBefore = await w.h.db('wallets').where({ userId: user.id }).first()

    const start = mark(CUSTOMER)
    await tg().sendText(customer, '/accounts')
    const list = await after(CUSTOMER, start, (_m, t) => t.includes('اکانت‌های شما'), 'the account list')
    await tg().press(customer, list, `acc:s:${account.id}`)
    await waitFor('the card', () => tg().buttons(list).some((b) => b.data === `acc:d:${account.id}`))
    await tg().press(customer, list, `acc:d:${account.id}`)
    await waitFor('the quote', () => tg().buttons(list).some((b) => b.data === `acc:dd:${account.id}`))
    // Delivered minutes ago with nothing used: the full-refund window applies.
    expect(tg().lastText(list)).toContain('۱۵۰٬۰۰۰ تومان')
    expect(await w.h.db('accounts').where({ id: account.id }).first()).toMatchObject({ status: 'active' })

    await tg().press(customer, list, `acc:dd:${account.id}`)
    w.h.started.add(`refund-${account.id}`)
    await waitFor('the deletion reported', () => tg().lastText(list).includes('حذف شد'), 60_000)
    expect(await w.h.db('accounts').where({ id: account.id }).first()).toMatchObject({ status: 'deleted' })
    const refunds = await w.h.db('ledgerEntries').where({ walletUserId: user.id, type: 'ORDER_REFUND' })
    expect(refunds).toHaveLength(1)
    expect(refunds[0].confirmedDelta).toBe('150000')
    const walletAfter = await w.h.db('wallets').where({ userId: user.id }).first()
    expect(BigInt(walletAfter.confirmed) - BigInt(walletBefore.confirmed)).toBe(150000n)
    expect(panelUsers(w.h.marzban).filter((u) => u.username === account.panelUsername)).toHaveLength(0)

    // pressing confirm again (an old button) refunds nothing more
    const answersBefore = tg().answers().length
    await tg().pressData(customer, list, `acc:dd:${account.id}`)
    await waitFor('the old button answered', () => tg().answers().length > answersBefore)
    expect(tg().answers().at(-1)!.text).toContain('پیدا نشد')
    await w.settle()
    expect(await w.h.db('ledgerEntries').where({ walletUserId: user.id, type: 'ORDER_REFUND' })).toHaveLength(1)
  })

  test('cancelling while the card details wait for a receipt cancels the order, by the button or by /cancel', async () => {
    const customer = tg().person(CUSTOMER, { firstName: 'Maryam', languageCode: 'fa' })
    const user = await w.h.db('users').where({ telegramId: String(CUSTOMER) }).first()
    const cancelled: number[] = []
    for (const how of ['button', 'command'] as const) {
      const start = mark(CUSTOMER)
      await tg().sendText(customer, '/buy')
      const menu = await after(CUSTOMER, start, (_m, t) => t.includes('لوکیشن'), 'the location list')
      await tg().press(customer, menu, `buy:l:${w.h.locationId}`)
      await waitFor('plans', () => tg().buttons(menu).some((b) => b.data === `buy:p:${w.h.locationId}:${w.h.planId}`))
      await tg().press(customer, menu, `buy:p:${w.h.locationId}:${w.h.planId}`)
      await waitFor('payment choice', () => tg().buttons(menu).some((b) => b.data?.endsWith(`:c:${w.cardMethodId}`)))
      await tg().press(customer, menu, `buy:p:${w.h.locationId}:${w.h.planId}:c:${w.cardMethodId}`)
      await waitFor('card instructions', () => tg().lastText(menu).includes('6037 9912 3456 7890'))
      const order = await waitFor('the order waiting', () => w.h.db('orders').where({ userId: user.id, status: 'awaiting_payment' }).whereNotIn('id', cancelled).first())
      w.h.started.add(`order-${order.id}`)
      if (how === 'button') await tg().press(customer, menu, `buy:cancel:${order.id}`)
      else await tg().sendText(customer, '/cancel')
      await after(CUSTOMER, start, (_m, t) => t.includes(`سفارش #${order.id} لغو شد`), 'the cancellation')
      await waitFor('the order cancelled', async () => (await w.h.db('orders').where({ id: order.id }).first()).status === 'cancelled')
      cancelled.push(order.id)
      // The receipt step is gone: a photo now is not taken as a receipt.
      const before = await w.h.db('payments').where({ userId: user.id }).count<{ count: string }[]>('* as count')
      await tg().sendPhoto(customer, jpegBytes())
      await w.settle()
      expect(await w.h.db('payments').where({ userId: user.id }).count<{ count: string }[]>('* as count')).toEqual(before)
    }
    expect(await w.h.db('ledgerEntries').where({ walletUserId: user.id, referenceType: 'order' }).whereIn('referenceId', cancelled.map(String))).toEqual([])
  })

  test('the workflows the bot started replay without nondeterminism', async () => {
    // The last notifications (paced per chat) may still be on their way.
    await waitFor(
      'the workflows to finish',
      async () => (await Promise.all([...w.h.started].map(async (id) => (await w.h.client.workflow.getHandle(id).describe()).status.name))).every((s) => s !== 'RUNNING'),
      60_000,
    )
    const { replayed, errors } = await replayHistories(w.h, w.h.started)
    expect(errors).toEqual([])
    expect(replayed).toBe(w.h.started.size)
  })
})
