import { describe, expect, test } from 'vitest'
import { classifySendFailure, isFinished } from './rules.ts'

const base = { status: null, permanent: false, retryAfterMs: null, message: 'x' }

describe('classifySendFailure', () => {
  test('flood control waits retry_after (at least a second) and sends the same message again', () => {
    expect(classifySendFailure({ ...base, status: 429, retryAfterMs: 7000 })).toEqual({ action: 'wait', retryAfterMs: 7000 })
    expect(classifySendFailure({ ...base, status: 429, retryAfterMs: null })).toEqual({ action: 'wait', retryAfterMs: 1000 })
    expect(classifySendFailure({ ...base, status: 429, retryAfterMs: 10 })).toEqual({ action: 'wait', retryAfterMs: 1000 })
  })

  test('a blocked bot or a missing chat is given up, never retried', () => {
    expect(classifySendFailure({ ...base, status: 403, permanent: true, message: 'Forbidden: bot was blocked by the user' })).toEqual({
      action: 'give_up',
      reason: 'Forbidden: bot was blocked by the user',
    })
  })

  test('an answer lost after the request left is not sent again (it may have arrived)', () => {
    expect(classifySendFailure({ ...base, message: 'Telegram Bot API unreachable (TimeoutError)' }).action).toBe('unknown')
  })

  test('Telegram refusing or unreachable before taking the message means retry later', () => {
    expect(classifySendFailure({ ...base, status: 502, message: 'Bad Gateway' }).action).toBe('retry_later')
    expect(classifySendFailure({ ...base, message: 'Telegram Bot API unreachable (TypeError)' }).action).toBe('retry_later')
  })
})

test('a broadcast is finished when nobody is left to try', () => {
  expect(isFinished({ pending: 0 })).toBe(true)
  expect(isFinished({ pending: 1 })).toBe(false)
})
