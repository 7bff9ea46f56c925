import fs from 'node:fs'
import { hostname } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Client } from '@temporalio/client'
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker'
import type { Redis } from 'ioredis'
import type { Env } from '#config/env.ts'
import type { Db } from '#db/knex.ts'
import { createPanelDirectory } from '#db/panels.ts'
import { createActivities, type ActivityDeps } from '#activities/index.ts'
import { RedisPanelStore } from '#activities/panels/store.ts'
import { redisNames } from '#config/redis-names.ts'
import { createTelegramSender } from '#activities/telegram.ts'
import { MAIN_TASK_QUEUE } from '#temporal/task-queues.ts'

/** `.ts` when running from source, `.js` in the compiled server of the image (bin/build-server.ts). */
const MODULE_EXT = path.extname(fileURLToPath(import.meta.url))

/** Entry point of the workflow bundle (webpack bundles it; workflow code never runs in the worker's own context). */
export const WORKFLOWS_PATH = fileURLToPath(new URL(`../workflows/index${MODULE_EXT}`, import.meta.url))

/**
 * The bundle `npm run build:server` writes next to the compiled code (dist/workflow-bundle.js). Running from source
 * there is none, and the worker bundles WORKFLOWS_PATH itself when it starts.
 */
export const PREBUILT_WORKFLOW_BUNDLE = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url))

export interface CreateWorkerOptions {
  connection: NativeConnection
  namespace?: string
  taskQueue?: string
  /** Dependencies of the activities (database, Redis, Temporal client, panels, Telegram, clock). */
  deps: ActivityDeps
  /**
   * A bundle made once with `bundleWorkflowCode` (tests, benchmarks); otherwise the image's prebuilt bundle when there
   * is one, else the worker bundles `WORKFLOWS_PATH`.
   */
  workflowBundle?: { code: string } | { codePath: string }
  identity?: string
  /** How long shutdown waits for running activities before cancelling them. */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime']
  maxConcurrentActivityTaskExecutions?: number
  maxConcurrentWorkflowTaskExecutions?: number
}

function workflowSource(given: CreateWorkerOptions['workflowBundle']): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  if (given) return { workflowBundle: given }
  if (fs.existsSync(PREBUILT_WORKFLOW_BUNDLE)) return { workflowBundle: { codePath: PREBUILT_WORKFLOW_BUNDLE } }
  return { workflowsPath: WORKFLOWS_PATH }
}

/** Builds flowpanel's worker: every workflow in workflows/index.ts and every activity of `createActivities(deps)`. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? MAIN_TASK_QUEUE,
    ...workflowSource(options.workflowBundle),
    activities: createActivities(options.deps),
    ...(options.identity ? { identity: options.identity } : {}),
    shutdownGraceTime: options.shutdownGraceTime ?? '30 seconds',
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 50,
    ...(options.maxConcurrentWorkflowTaskExecutions ? { maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions } : {}),
  })
}

export interface BuildWorkerOptions {
  env: Env
  db: Db
  redis: Redis
  /** Temporal client for the activities that start or signal workflows. */
  temporal: Client
  /** Temporal frontend the worker polls; the worker opens (and closes) its own native connection to it. */
  address: string
  identity?: string
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime']
}

export interface FlowpanelWorker {
  worker: Worker
  /** Closes what `buildWorker` opened (panel adapters, the native connection); call once the worker has stopped. */
  close(): Promise<void>
}

/**
 * The one wiring of flowpanel's worker process, shared by `npm run worker` (worker/main.ts) and `npm start`
 * (bin/start/worker.ts): the panel directory over the Redis session store, the Telegram sender, the activity
 * deps and the worker itself. The caller owns env, db, redis and the client, installs the SDK runtime and decides shutdown.
 */
export async function buildWorker(options: BuildWorkerOptions): Promise<FlowpanelWorker> {
  const { env, db, redis } = options
  const connection = await NativeConnection.connect({ address: options.address })
  const panels = createPanelDirectory(db, { appSecret: env.APP_SECRET, store: new RedisPanelStore(redis, redisNames(env).scope('panel')) })
  const telegram = createTelegramSender({ token: env.TELEGRAM_BOT_TOKEN, apiRoot: env.TELEGRAM_API_ROOT })
  const close = async () => {
    await Promise.allSettled([panels.close(), connection.close()])
  }
  try {
    const worker = await createWorker({
      connection,
      namespace: env.TEMPORAL_NAMESPACE,
      deps: { db, redis, env, temporal: options.temporal, panels, telegram },
      identity: options.identity ?? `flowpanel-worker-${process.pid}@${hostname()}`,
      ...(options.shutdownGraceTime !== undefined ? { shutdownGraceTime: options.shutdownGraceTime } : {}),
    })
    return { worker, close }
  } catch (error) {
    await close()
    throw error
  }
}
