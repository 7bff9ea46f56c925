import type { BroadcastCountsJson } from './messages.ts'

/**
 * Pure decisions of the broadcast: how a failed send is treated, and when the workflow continues as new. Sending
 * one message to each recipient at most once is the rule everything here serves.
 */

export type SendFailure =
  /** Flood control: wait `retryAfterMs` (every sender pauses), then send the same message again. */
  | { action: 'wait'; retryAfterMs: number }
  /** The chat cannot get it (blocked the bot, chat gone): count it as failed, never retry. */
  | { action: 'give_up'; reason: string }
  /** Telegram did not take the message (5xx, connection refused): put it back for a later attempt. */
  | { action: 'retry_later'; reason: string }
  /** The answer was lost after the request left (a timeout): it may have arrived, so it is not sent again. */
  | { action: 'unknown'; reason: string }

export interface SendError {
  status: number | null
  permanent: boolean
  retryAfterMs: number | null
  message: string
}

export function classifySendFailure(error: SendError): SendFailure {
  if (error.status === 429 || error.retryAfterMs !== null) return { action: 'wait', retryAfterMs: Math.max(1000, error.retryAfterMs ?? 1000) }
  if (error.permanent) return { action: 'give_up', reason: error.message }
  if (error.status === null && /TimeoutError|AbortError/.test(error.message)) return { action: 'unknown', reason: error.message }
  return { action: 'retry_later', reason: error.message }
}

/** How many 429 answers one message may get before the batch gives up and lets the activity retry later. */
export const MAX_FLOOD_WAITS_PER_MESSAGE = 10

/** The workflow continues as new after this many batches, so its history stays small for any audience size. */
export const BATCHES_PER_RUN = 100

export function isFinished(counts: Pick<BroadcastCountsJson, 'pending'>): boolean {
  return counts.pending === 0
}
