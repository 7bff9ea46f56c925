import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Redis } from 'ioredis'
import type { Env } from '#config/env.ts'
import type { Role } from '#db/models.ts'
import { startHarness, waitFor, type Harness } from '#tests/workflows/harness.ts'
import { startFakeZarinpal, type FakeZarinpal } from '#tests/fakes/zarinpal.ts'
import { startWebServer, type WebServer } from '../../../web/server.ts'
import { makeUser, PASSWORD, TestBrowser } from '../web/harness.ts'

/**
 * Everything the agent and customer pages need, real: the workflow harness (Temporal's time-skipping test server, flowpanel's
 * worker, Postgres, fake Marzban and Telegram), the web server on the same database, Redis and Temporal client, a
 * fake Zarinpal, and payment methods. Redis keys get a per-file prefix so the published statuses of parallel test
 * files never mix (pub/sub channel names are not prefixed; the pages read the prefixed key after each message).
 */
export interface ShopWorld {
  h: Harness
  web: WebServer
  url: string
  env: Env
  redis: Redis
  zarinpal: FakeZarinpal
  cardMethodId: number
  zarinpalMethodId: number
  uploadDir: string
  /** A browser signed in as a new user of `role`, with English pages. */
  signIn(role: Role): Promise<{ browser: TestBrowser; user: { id: number; username: string } }>
  close(): Promise<void>
}

export const MERCHANT_ID = '11111111-2222-3333-4444-555555555555'

/** `buildDir` serves that production build (browser tests make one with `buildWeb()`); otherwise pages compile on demand. */
export async function startShopWorld(name: string, options: { buildDir?: string } = {}): Promise<ShopWorld> {
  const zarinpal = await startFakeZarinpal({ merchantIds: [MERCHANT_ID] })
  const h = await startHarness(name, { startWorker: false, env: { ZARINPAL_API_ROOT: zarinpal.url, ZARINPAL_MERCHANT_ID: MERCHANT_ID } })
  // The web app and the worker share the harness's REDIS_PREFIX (from its database), as one installation does.
  const redis = new Redis(h.redisUrl, { maxRetriesPerRequest: 3 })
  await h.startWorker()
  const uploadDir = await mkdtemp(path.join(tmpdir(), 'fp-shop-uploads-'))
  const env: Env = { ...h.appEnv, UPLOAD_DIR: uploadDir, PUBLIC_URL: 'http://127.0.0.1:1' }
  const web = await startWebServer({
    env,
    db: h.db,
    redis,
    temporal: h.client,
    port: 0,
    host: '127.0.0.1',
    ...(options.buildDir ? { mode: 'production' as const, buildDir: options.buildDir } : { mode: 'development' as const, optimizeClientDeps: false }),
  })
  // The callback URL given to Zarinpal must reach this server, whose port is known only now.
  env.PUBLIC_URL = web.url

  const [card] = await h.db('paymentMethods')
    .insert({ kind: 'CARD', titleFa: 'کارت', titleEn: 'Card transfer', config: { cardNumber: '6037991234567890', holder: 'Flow Panel', bank: 'Melli' } })
    .returning('id')
  const [gateway] = await h.db('paymentMethods').insert({ kind: 'ZARINPAL', titleFa: 'زرین‌پال', titleEn: 'Zarinpal', config: {} }).returning('id')

  return {
    h,
    web,
    url: web.url,
    env,
    redis,
    zarinpal,
    cardMethodId: card.id,
    zarinpalMethodId: gateway.id,
    uploadDir,
    async signIn(role) {
      const user = await makeUser(h.db, role)
      await h.db('users').where({ id: user.id }).update({ locale: 'en' })
      const browser = new TestBrowser(web.url)
      const response = await browser.login(user.username, PASSWORD)
      if (response.status !== 302) throw new Error(`sign-in as ${role} failed with ${response.status}`)
      return { browser, user }
    },
    async close() {
      await web.close()
      await h.teardown()
      await zarinpal.close()
      redis.disconnect()
      await rm(uploadDir, { recursive: true, force: true })
    },
  }
}

/** A valid PNG (content-checked receipts), different for every `seed` so no two receipts are duplicates. */
export function pngReceipt(seed: string): Buffer {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return Buffer.concat([signature, Buffer.from(`receipt ${seed} ${randomBytes(8).toString('hex')}`)])
}

/** A multipart form post as a browser sends it, CSRF token included. */
export async function postMultipart(browser: TestBrowser, pathname: string, fields: Record<string, string>, files: Record<string, { bytes: Buffer; name: string; type: string }> = {}) {
  const form = new FormData()
  form.set('_csrf', await browser.ensureCsrf())
  for (const [k, v] of Object.entries(fields)) form.set(k, v)
  for (const [k, f] of Object.entries(files)) form.set(k, new Blob([new Uint8Array(f.bytes)], { type: f.type }), f.name)
  return browser.request('POST', pathname, { body: form })
}

/** The id at the end of a redirect such as `/agent/orders/12`. */
export function idFrom(location: string | null, prefix: string): number {
  const m = new RegExp(`^${prefix.replace(/\//g, '\\/')}(\\d+)`).exec(location ?? '')
  if (!m) throw new Error(`expected a redirect to ${prefix}<id>, got ${location}`)
  return Number(m[1])
}

/** A fresh order key, as the create forms carry. */
export function orderKey(): string {
  return crypto.randomUUID()
}

export { waitFor }
