import { timingSafeEqual } from 'node:crypto'
import express, { type Express, type Request, type Response } from 'express'
import type { Update } from 'grammy/types'
import type { Logger } from './logger.ts'
import type { UpdateDispatcher } from './runtime.ts'

export const WEBHOOK_PATH = '/telegram/webhook'
export const SECRET_HEADER = 'X-Telegram-Bot-Api-Secret-Token'

/** Telegram allows 1–256 characters A–Z, a–z, 0–9, `_` and `-` in a webhook secret. */
export function isValidWebhookSecret(secret: string): boolean {
  return /^[A-Za-z0-9_-]{1,256}$/.test(secret)
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * The webhook endpoint: refuses a request without the secret token Telegram was given (401), accepts anything
 * that looks like an update, and answers once the update is handled — or after `maxWaitMs`, so a slow handler
 * never makes Telegram deliver the update again (a re-delivery would be dropped by the dispatcher anyway).
 */
export function createWebhookHandler(options: { dispatcher: UpdateDispatcher; secretToken: string; logger: Logger; maxWaitMs?: number }) {
  if (!isValidWebhookSecret(options.secretToken)) throw new Error('TELEGRAM_WEBHOOK_SECRET must be 1–256 characters of A–Z, a–z, 0–9, _ or -')
  return async (req: Request, res: Response): Promise<void> => {
    if (!sameSecret(req.get(SECRET_HEADER), options.secretToken)) {
      options.logger.warn('webhook-refused', { reason: 'secret token missing or wrong', ip: req.ip })
      res.status(401).type('text/plain').send('secret token missing or wrong')
      return
    }
    const update = req.body as Partial<Update> | undefined
    if (!update || typeof update !== 'object' || typeof update.update_id !== 'number') {
      res.status(400).type('text/plain').send('not a Telegram update')
      return
    }
    const handled = options.dispatcher.dispatch(update as Update)
    await Promise.race([handled, new Promise((r) => setTimeout(r, options.maxWaitMs ?? 8000).unref())])
    res.status(200).json({ ok: true })
  }
}

/** Mounts the webhook on an express app (the web server's `mountRoutes`). */
export function mountTelegramWebhook(app: Express, options: { dispatcher: UpdateDispatcher; secretToken: string; logger: Logger; path?: string }): void {
  app.post(options.path ?? WEBHOOK_PATH, express.json({ limit: '1mb' }), createWebhookHandler(options))
}
