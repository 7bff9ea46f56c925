import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { historyToJSON } from '@temporalio/common/lib/proto-utils'
import { Client, type WorkflowHandle } from '@temporalio/client'
import type { TestWorkflowEnvironment } from '@temporalio/testing'
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleOption } from '@temporalio/worker'
import { Redis } from 'ioredis'
import { envWithDefaults, type Env } from '#config/env.ts'
import { redisNames } from '#config/redis-names.ts'
import type { Db } from '#db/knex.ts'
import { addPanel, createPanelDirectory, ensureLocation, updateHealth } from '#db/panels.ts'
import { createUser } from '#db/users.ts'
import { RedisPanelStore } from '#activities/panels/store.ts'
import { createTelegramSender } from '#activities/telegram.ts'
import type { ActivityDeps, WorkflowSettings } from '#activities/index.ts'
import { createWorker, WORKFLOWS_PATH } from '../../worker/create-worker.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { clearRedisNamespace } from '#tests/setup/redis.ts'
import { SHARED } from '#tests/setup/shared.ts'
import { createTestEnv, type TestServerKind } from '#tests/setup/temporal.ts'
import { startFakeMarzban, type FakeMarzban } from '#tests/fakes/marzban.ts'
import { startFakeTelegram, type FakeTelegram } from '#tests/fakes/telegram.ts'

/**
 * One world per workflow test file: one of Temporal's own servers (the time-skipping test server unless the file asks
 * for the CLI dev server), a fresh Postgres database, Redis,
 * a fake Marzban panel, a fake Telegram Bot API, seeded users and a plan, and flowpanel's real worker.
 */
export const ADMIN_CHAT = '9000'
export const GB = 1024 ** 3

export interface Harness {
  env: TestWorkflowEnvironment
  /** On the time-skipping server, waiting on a result through this client lets the server skip time. */
  client: Client
  /**
   * A client whose waits never skip time. The time-skipping test server, asked for a result, jumps its clock as far
   * as it can (ten years when no timer is pending) once the workflow is done; wait through this client when the
   * test goes on in "the same moment" (a refund right after a purchase).
   */
  realTimeClient: Client
  /** The Temporal Web UI of the server, when the file asked for it (`temporalUi`). */
  temporalUiUrl: string | undefined
  db: Db
  dbUrl: string
  redis: Redis
  redisUrl: string
  marzban: FakeMarzban
  telegram: FakeTelegram
  appEnv: Env
  deps: ActivityDeps
  bundle: WorkflowBundleOption
  locationId: number
  panelId: number
  planId: number
  adminId: number
  worker: Worker | null
  /** Starts flowpanel's worker in this process (the harness starts one unless told not to). */
  startWorker(): Promise<Worker>
  stopWorker(): Promise<void>
  createCustomer(name: string, options?: { telegramId?: string }): Promise<number>
  createAgent(name: string, options?: { telegramId?: string; maxActiveAccounts?: number }): Promise<number>
  /** The environment a flowpanel process (`worker/main.ts`, the CLI) needs to join this world as a child process. */
  processEnv(): NodeJS.ProcessEnv
  /** Every workflow this file started, for the replay check. */
  started: Set<string>
  teardown(): Promise<void>
}

export interface HarnessOptions {
  settings?: Partial<WorkflowSettings>
  env?: Record<string, string>
  startWorker?: boolean
  /** `dev` for files that list or count workflows (visibility) or use schedules; `time-skipping` otherwise. */
  temporal?: TestServerKind
  /** Serve the Temporal Web UI as well (needs `temporal: 'dev'`); its address is `temporalUiUrl`. */
  temporalUi?: boolean
}

let runtimeReady = false
function quietRuntime(): void {
  if (runtimeReady) return
  runtimeReady = true
  try {
    // The core's own warnings (e.g. that the test server does not advertise a capability) go to the same logger.
    Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } } })
  } catch {
    // Installed already in this process.
  }
}

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string, meta?: unknown) {
    console.warn(message, meta)
  },
}

let bundlePromise: Promise<WorkflowBundleOption> | undefined
/** flowpanel's workflows: the bundle the global setup made once for the run, else bundled once per test file. */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  const shared = process.env[SHARED.workflowBundle]
  bundlePromise ??= shared ? Promise.resolve({ codePath: shared }) : bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger })
  return bundlePromise
}

export async function startHarness(name: string, options: HarnessOptions = {}): Promise<Harness> {
  quietRuntime()
  const [env, database, marzban, telegram, bundle] = await Promise.all([
    createTestEnv({ server: options.temporal, ui: options.temporalUi }),
    createTestDatabase(`wf_${name}`),
    startFakeMarzban(),
    startFakeTelegram(),
    workflowBundle(),
  ])
  const { db } = database
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 })
  const appEnv = envWithDefaults({
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    TELEGRAM_BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    TELEGRAM_ADMIN_CHAT_IDS: ADMIN_CHAT,
    DEFAULT_LOCALE: 'en',
    ...options.env,
  })

  const location = await ensureLocation(db, 'de')
  const panel = await addPanel(db, appEnv.APP_SECRET, { name: 'fake-marzban', type: 'marzban', baseUrl: marzban.url, username: 'admin', password: 'admin', locationId: location.id })
  await updateHealth(db, panel.id, { reachable: true, ok: true, version: '0.8.4', coreVersion: null, latencyMs: 1, load: null })
  const [plan] = await db('plans')
    .insert({ nameFa: 'یک ماهه', nameEn: 'One month', days: 30, dataLimitBytes: String(50 * GB), price: '150000', agentPrice: '120000' })
    .returning('id')
  await db('planLocations').insert({ planId: plan.id, locationId: location.id })
  const admin = await createUser(db, { username: 'admin', password: 'admin-password', role: 'admin', locale: 'en' })

  // Each file has its own database, hence its own Redis prefix, as the worker of an installation has.
  const panelStore = new RedisPanelStore(redis, redisNames(appEnv).scope('panel'))
  const panels = createPanelDirectory(db, { appSecret: appEnv.APP_SECRET, store: panelStore })
  const deps: ActivityDeps = {
    db,
    redis,
    env: appEnv,
    temporal: env.client,
    panels,
    telegram: createTelegramSender({ token: appEnv.TELEGRAM_BOT_TOKEN, apiRoot: appEnv.TELEGRAM_API_ROOT }),
    settings: options.settings,
  }

  let running: Promise<void> | null = null
  const started = new Set<string>()
  const harness: Harness = {
    env,
    client: env.client,
    realTimeClient: new Client({ connection: env.connection, namespace: env.namespace }),
    temporalUiUrl: env.uiUrl,
    db,
    dbUrl: database.url,
    redis,
    redisUrl,
    marzban,
    telegram,
    appEnv,
    deps,
    bundle,
    locationId: location.id,
    panelId: panel.id,
    planId: plan.id,
    adminId: admin.id,
    worker: null,
    started,
    async startWorker() {
      const worker = await createWorker({ connection: env.nativeConnection, deps, workflowBundle: bundle, shutdownGraceTime: '2 seconds' })
      harness.worker = worker
      running = worker.run()
      return worker
    },
    async stopWorker() {
      const worker = harness.worker
      if (!worker) return
      if (worker.getState() === 'RUNNING') worker.shutdown()
      await running
      harness.worker = null
      running = null
    },
    processEnv() {
      return {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_ENV: 'test',
        DATABASE_URL: database.url,
        REDIS_URL: redisUrl,
        TEMPORAL_ADDRESS: env.address,
        APP_SECRET: appEnv.APP_SECRET,
        TELEGRAM_BOT_TOKEN: appEnv.TELEGRAM_BOT_TOKEN ?? '',
        TELEGRAM_API_ROOT: appEnv.TELEGRAM_API_ROOT,
        TELEGRAM_ADMIN_CHAT_IDS: appEnv.TELEGRAM_ADMIN_CHAT_IDS.join(','),
        LOG_LEVEL: 'info',
      }
    },
    async createCustomer(username, opts = {}) {
      const user = await createUser(db, { username, role: 'customer', locale: 'en', telegramId: opts.telegramId })
      return user.id
    },
    async createAgent(username, opts = {}) {
      const user = await createUser(db, { username, role: 'agent', locale: 'en', telegramId: opts.telegramId })
      await db('agents').insert({ userId: user.id, firstName: username, lastName: 'Agent', maxActiveAccounts: opts.maxActiveAccounts ?? null })
      return user.id
    },
    async teardown() {
      await harness.stopWorker()
      await Promise.allSettled([env.teardown(), marzban.close(), telegram.close(), panels.close()])
      await clearRedisNamespace(redis, appEnv).catch(() => undefined)
      await redis.quit().catch(() => undefined)
      await database.drop()
    },
  }
  if (options.startWorker !== false) await harness.startWorker()
  return harness
}

/** Polls until `check` returns a truthy value (real time), failing with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Ledger entries of a reference, for "exactly once" checks. */
export async function ledgerEntries(db: Db, filter: { type?: string; referenceType?: string; referenceId?: string | number; userId?: number }): Promise<{ type: string; confirmedDelta: string; pendingDelta: string; idempotencyKey: string }[]> {
  const q = db('ledgerEntries').orderBy('id')
  if (filter.type) q.where({ type: filter.type })
  if (filter.referenceType) q.where({ referenceType: filter.referenceType })
  if (filter.referenceId !== undefined) q.where({ referenceId: String(filter.referenceId) })
  if (filter.userId !== undefined) q.where({ walletUserId: filter.userId })
  return q.select('type', 'confirmedDelta', 'pendingDelta', 'idempotencyKey')
}

/** Users on the fake Marzban panel. */
export function panelUsers(marzban: FakeMarzban): { username: string; status: string; note: string | null; expire: number | null; data_limit: number | null; used_traffic: number }[] {
  return marzban.users() as never
}

/** Where recorded histories are kept for tests/workflows/replay.test.ts. */
export const HISTORIES_DIR = fileURLToPath(new URL('./histories/', import.meta.url))

/**
 * Replays the histories of every finished workflow in `workflowIds` with the current bundle. With
 * `RECORD_WORKFLOW_HISTORIES=1` the histories are also written to tests/workflows/histories/, so that later versions
 * of the workflows are checked against them (tests/workflows/replay.test.ts).
 */
export async function replayHistories(h: Harness, workflowIds: Iterable<string>, label = 'run'): Promise<{ replayed: number; errors: string[] }> {
  const record = process.env.RECORD_WORKFLOW_HISTORIES === '1'
  if (record) await mkdir(HISTORIES_DIR, { recursive: true })
  const histories = async function* () {
    for (const workflowId of workflowIds) {
      const handle: WorkflowHandle = h.client.workflow.getHandle(workflowId)
      const description = await handle.describe()
      if (description.status.name === 'RUNNING') continue
      const history = await handle.fetchHistory()
      if (record) await writeFile(path.join(HISTORIES_DIR, `${label}--${workflowId}.json`), historyToJSON(history))
      yield { workflowId, history }
    }
  }
  let replayed = 0
  const errors: string[] = []
  for await (const result of Worker.runReplayHistories({ workflowBundle: h.bundle, replayName: 'flowpanel' }, histories())) {
    replayed++
    if (result.error) errors.push(`${result.workflowId}: ${result.error.message}`)
  }
  return { replayed, errors }
}
