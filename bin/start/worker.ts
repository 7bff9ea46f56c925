import type { Client } from '@temporalio/client'
import type { LogLevel as SdkLogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common'
import { Runtime, type Worker } from '@temporalio/worker'
import type { Redis } from 'ioredis'
import type { Env } from '#config/env.ts'
import type { Db } from '#db/knex.ts'
import { ensurePeriodicSchedule } from '#temporal/periodic.ts'
import { ensureReconcileSchedule } from '#temporal/reconcile.ts'
import { buildWorker } from '../../worker/create-worker.ts'
import type { Logger } from '../../infra/logger.ts'

/**
 * The Temporal SDK logs through our JSON logger: workflow and activity lines carry the SDK's metadata
 * (workflowId, runId, activityId, taskQueue…) as fields, so a workflow id greps across web and worker.
 */
export function sdkLogger(logger: Logger, level: Env['LOG_LEVEL']): SdkLogger {
  const order = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 } as const
  const min = order[level.toUpperCase() as keyof typeof order]
  const log = (l: SdkLogLevel, message: string, meta?: LogMetadata) => {
    // The workflow bundler reports every module it packed at INFO: useful only when debugging the bundle.
    if (l === 'INFO' && message.startsWith('asset workflow-bundle')) l = 'DEBUG'
    if (order[l] < min) return
    const fields = { ...(meta ?? {}) } as Record<string, unknown>
    if (l === 'ERROR') logger.error(message, fields)
    else if (l === 'WARN') logger.warn(message, fields)
    else if (l === 'INFO') logger.info(message, fields)
    else logger.debug(message, fields)
  }
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  }
}

let runtimeInstalled = false

/** Installs the SDK runtime once per process, without its own signal handlers (npm start owns shutdown). */
export function installRuntime(logger: Logger, level: Env['LOG_LEVEL']): void {
  if (runtimeInstalled) return
  Runtime.install({ logger: sdkLogger(logger.child({ component: 'temporal-sdk' }), level), shutdownSignals: [] })
  runtimeInstalled = true
}

export interface RunningWorker {
  worker: Worker
  /** Resolves when the worker has stopped (after `stop`), rejects if it fails. */
  done: Promise<void>
  /** Stops polling, lets running activities finish (up to the grace time), closes the worker's own connections. */
  stop(): Promise<void>
}

/** Runs flowpanel's worker inside this process with the given connections (`buildWorker`, as worker/main.ts does). */
export async function startWorker(options: {
  env: Env
  db: Db
  redis: Redis
  client: Client
  address: string
  logger: Logger
  shutdownGraceSeconds?: number
}): Promise<RunningWorker> {
  const { env, db, redis, client, logger } = options
  installRuntime(logger, env.LOG_LEVEL)
  const { worker, close } = await buildWorker({
    env,
    db,
    redis,
    temporal: client,
    address: options.address,
    shutdownGraceTime: `${options.shutdownGraceSeconds ?? 30} seconds`,
  })
  await ensurePeriodicSchedule(client, { intervalMs: env.PERIODIC_INTERVAL })
  await ensureReconcileSchedule(client, { intervalMs: env.RECONCILE_INTERVAL })
  const done = worker.run().finally(close)
  logger.info('worker-started', { address: options.address, namespace: env.TEMPORAL_NAMESPACE, taskQueue: worker.options.taskQueue })
  let stopping: Promise<void> | undefined
  return {
    worker,
    done,
    stop() {
      stopping ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown()
        await done.catch((error: unknown) => logger.error('worker-failed', { error: error instanceof Error ? error.message : String(error) }))
        logger.info('worker-stopped', {})
      })()
      return stopping
    },
  }
}
