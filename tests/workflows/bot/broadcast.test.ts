import { randomUUID } from 'node:crypto'
import { Worker } from '@temporalio/worker'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createActivities } from '#activities/index.ts'
import { createBroadcastActivities } from '#activities/broadcast.ts'
import { MAIN_TASK_QUEUE } from '#temporal/task-queues.ts'
import type { BroadcastResult } from '#workflows/broadcast/messages.ts'
import { replayHistories, waitFor } from '../harness.ts'
import { startBotWorld, type BotWorld } from './world.ts'

let w: BotWorld
let worker: Worker | null = null
let running: Promise<void> | null = null

const CHATS = 1000
const FIRST_CHAT = 300_001
const BLOCKED = [FIRST_CHAT + 10, FIRST_CHAT + 500, FIRST_CHAT + 999]
const PER_SECOND = 100
const CONCURRENCY = 8

/** flowpanel's worker, with the broadcast paced at PER_SECOND on this file's own Redis schedule. */
async function startWorker(): Promise<void> {
  const activities = {
    ...createActivities(w.h.deps),
    ...createBroadcastActivities(w.h.deps, { pacing: { perSecond: PER_SECOND }, batchSize: 100, concurrency: CONCURRENCY }),
  }
  worker = await Worker.create({
    connection: w.h.env.nativeConnection,
    taskQueue: MAIN_TASK_QUEUE,
    workflowBundle: w.h.bundle,
    activities,
    shutdownGraceTime: '1 second',
  })
  running = worker.run()
}

async function stopWorker(): Promise<void> {
  if (worker?.getState() === 'RUNNING') worker.shutdown()
  await running
  worker = null
  running = null
}

beforeAll(async () => {
  // Real time (the pacing is measured by the clock) and a worker hand-over, which the time-skipping test server does
  // not survive (see worker-crash.test.ts): the CLI dev server.
  w = await startBotWorld('bot_broadcast', { harness: { startWorker: false, temporal: 'dev' } })
  await startWorker()
  // A thousand customers who use the bot, inserted in bulk (with their wallets, as createUser would).
  const rows = Array.from({ length: CHATS }, (_, i) => ({ username: `bc${i}`, role: 'customer', locale: i % 2 ? 'en' : 'fa', telegramId: String(FIRST_CHAT + i) }))
  const ids: { id: number }[] = await w.h.db('users').insert(rows).returning('id')
  await w.h.db('wallets').insert(ids.map((r) => ({ userId: r.id })))
  for (const chat of BLOCKED) w.h.telegram.blockChat(chat)
})
afterAll(async () => {
  if (w?.problems.length) process.stderr.write(`bot warnings:\n${w.problems.join('\n')}\n`)
  await stopWorker()
  await w?.stop()
})

describe('broadcast', () => {
  test('an admin broadcasts to 1,000 customers through the bot: 429s are waited out, the worker restarts midway, every chat gets exactly one message, and the admin gets the counts', async () => {
    const tg = w.h.telegram
    const [sara] = w.admins
    const admin = sara!.person
    const text = `Maintenance tonight 02:00–03:00 (${randomUUID().slice(0, 8)})`

    await tg.sendText(admin, '/broadcast')
    const menu = await w.waitForMessage(7001, (_m, t) => t.includes('Who should get it?'), 'the audience question')
    await tg.press(admin, menu, 'bc:aud:customers')
    await waitFor('the text prompt', () => tg.lastText(menu).includes(`${CHATS + 1}`) || tg.lastText(menu).includes('Send the message text'))
    await tg.sendText(admin, text)
    const confirm = await w.waitForMessage(7001, (_m, t) => t.includes('Send this to all customers'), 'the confirmation')
    // Telegram answers the first sends of the broadcast with flood control.
    const isBroadcast = (method: string, params: Record<string, unknown>) => method === 'sendMessage' && params.text === text
    tg.floodNext(5, 1, isBroadcast)
    const started = Date.now()
    await tg.press(admin, confirm, 'bc:send')
    await waitFor('the broadcast started', () => tg.lastText(confirm).includes('started'))
    const broadcast = await w.h.db('broadcasts').orderBy('id', 'desc').first()
    expect(broadcast).toMatchObject({ audience: 'customers', text, createdBy: w.admins[0]!.id })
    const handle = w.h.client.workflow.getHandle<() => Promise<BroadcastResult>>(`broadcast-${broadcast.id}`)
    w.h.started.add(handle.workflowId)

    // Midway: more flood control, and the worker goes away and a new one takes over.
    await waitFor('a third of the chats served', () => tg.messages().filter((m) => m.text === text).length >= 300, 60_000)
    tg.floodNext(3, 2, isBroadcast)
    await stopWorker()
    const sentWhileDown = tg.messages().filter((m) => m.text === text).length
    await new Promise((r) => setTimeout(r, 500))
    expect(tg.messages().filter((m) => m.text === text).length).toBe(sentWhileDown)
    await startWorker()

    const result = await handle.result()
    const elapsedMs = Date.now() - started
    const customers = await w.h.db('users').where({ role: 'customer' }).whereNotNull('telegramId').count<{ count: string }[]>('* as count')
    const total = Number(customers[0]!.count)
    expect(result).toEqual({ broadcastId: broadcast.id, total, delivered: total - BLOCKED.length, failed: BLOCKED.length })

    // Every chat exactly one message; the blocked ones none.
    const perChat = new Map<string, number>()
    for (const m of tg.messages()) if (m.text === text) perChat.set(m.chatId, (perChat.get(m.chatId) ?? 0) + 1)
    for (let i = 0; i < CHATS; i++) {
      const chat = String(FIRST_CHAT + i)
      expect(perChat.get(chat) ?? 0, `chat ${chat}`).toBe(BLOCKED.includes(FIRST_CHAT + i) ? 0 : 1)
    }
    expect([...perChat.values()].every((n) => n === 1)).toBe(true)

    // Every call is accounted for: the deliveries, the 8 flood answers and the 3 blocked chats.
    const sends = tg.calls.filter((c) => c.method === 'sendMessage' && c.params.text === text)
    expect(tg.floodAnswers).toHaveLength(8)
    expect(sends.length).toBe(total - BLOCKED.length + 8 + BLOCKED.length)
    // 429 was honoured: after each one, nothing new went out to anyone before its retry_after had passed. Only
    // requests already on their way when the 429 came back may arrive (at most one per other concurrent sender).
    for (const flood of tg.floodAnswers) {
      const inWindow = sends.filter((c) => c.at > flood.at && c.at < flood.at + flood.retryAfter * 1000 - 50)
      expect(inWindow.length, `sends within ${flood.retryAfter}s after the 429 at ${flood.at}`).toBeLessThanOrEqual(CONCURRENCY - 1)
      expect(inWindow.filter((c) => c.at > flood.at + 500), `late sends after the 429 at ${flood.at}`).toEqual([])
    }
    // Pacing: never more than PER_SECOND sends in any one-second window, give or take the requests in flight: the fake
    // sees arrival times, and up to CONCURRENCY paced requests can land together. Unpaced, the peak would be hundreds.
    const times = sends.map((c) => c.at).sort((a, b) => a - b)
    let peak = 0
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++
      peak = Math.max(peak, i - j + 1)
    }
    expect(peak).toBeLessThanOrEqual(PER_SECOND + CONCURRENCY)

    const row = await w.h.db('broadcasts').where({ id: broadcast.id }).first()
    expect(row).toMatchObject({ status: 'done', total, delivered: total - BLOCKED.length, failed: BLOCKED.length })
    const report = await w.waitForMessage(7001, (_m, t) => t.includes(`Broadcast #${broadcast.id} finished`), 'the report to the admin')
    expect(report.text).toContain(`${total - BLOCKED.length} delivered, ${BLOCKED.length} failed`)
    process.stdout.write(`broadcast: ${total} chats in ${elapsedMs} ms (${Math.round((total * 1000) / elapsedMs)}/s at a ${PER_SECOND}/s pace, peak ${peak} in one second)\n`)
  })

  test('the broadcast history (with its worker hand-over) replays without nondeterminism', async () => {
    const { replayed, errors } = await replayHistories(w.h, w.h.started)
    expect(errors).toEqual([])
    expect(replayed).toBeGreaterThanOrEqual(1)
  })
})
