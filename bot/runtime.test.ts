import { describe, expect, test } from 'vitest'
import type { Update } from 'grammy/types'
import { sequenceKey } from './runtime.ts'
import { formatCardNumber } from './helpers/methods.ts'
import { isValidWebhookSecret } from './webhook.ts'

describe('sequenceKey', () => {
  test('updates of one person in one chat share a key; two admins in the same group do not', () => {
    const message = (chat: number, from: number) => ({ update_id: 1, message: { message_id: 1, date: 0, chat: { id: chat, type: 'private' }, from: { id: from, is_bot: false, first_name: 'a' } } }) as unknown as Update
    const press = (chat: number, from: number) =>
      ({ update_id: 2, callback_query: { id: 'q', chat_instance: 'c', from: { id: from, is_bot: false, first_name: 'a' }, message: { message_id: 5, date: 0, chat: { id: chat, type: 'supergroup' } } } }) as unknown as Update
    expect(sequenceKey(message(5, 5))).toBe(sequenceKey(message(5, 5)))
    expect(sequenceKey(press(-100, 7))).not.toBe(sequenceKey(press(-100, 8)))
    expect(sequenceKey(press(-100, 7))).toBe('-100:7')
    expect(sequenceKey({ update_id: 9 } as Update)).toBe('update:9')
  })
})

test('card numbers are grouped in fours; anything else is left as written', () => {
  expect(formatCardNumber('6037991234567890')).toBe('6037 9912 3456 7890')
  expect(formatCardNumber('6037-9912-3456-7890')).toBe('6037 9912 3456 7890')
  expect(formatCardNumber('IR12 0000')).toBe('IR12 0000')
})

test('webhook secrets follow Telegram rules', () => {
  expect(isValidWebhookSecret('abc_DEF-123')).toBe(true)
  expect(isValidWebhookSecret('')).toBe(false)
  expect(isValidWebhookSecret('has space')).toBe(false)
  expect(isValidWebhookSecret('x'.repeat(257))).toBe(false)
})
