import { pathToFileURL } from 'node:url'
import { DefaultLogger, Runtime } from '@temporalio/worker'
import { Redis } from 'ioredis'
import { getEnv } from '#config/env.ts'
import { createDb } from '#db/knex.ts'
import { createTemporalClient, DEFAULT_TEMPORAL_ADDRESS } from '#temporal/client.ts'
import { ensurePeriodicSchedule } from '#temporal/periodic.ts'
import { ensureReconcileSchedule } from '#temporal/reconcile.ts'
import { buildWorker } from './create-worker.ts'

export {
  buildWorker,
  createWorker,
  WORKFLOWS_PATH,
  type BuildWorkerOptions,
  type CreateWorkerOptions,
  type FlowpanelWorker,
} from './create-worker.ts'

const LOG_LEVELS = { debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' } as const

/**
 * The worker process (`npm run worker [-- --no-periodic]`): reads the environment, opens Postgres, Redis and Temporal, registers the
 * workflows and activities, makes sure the periodic-maintenance and reconcile schedules exist with `PERIODIC_INTERVAL` and
 * `RECONCILE_INTERVAL`, and on SIGTERM/SIGINT stops polling,
 * lets running activities finish (up to 30 s) and closes everything once. The SDK's logger tags every line of a
 * workflow or activity with its workflow id, run id and activity id.
 */
async function main(): Promise<void> {
  const env = getEnv()
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is not set: the worker needs the database (`npm start` runs an embedded one)')
  Runtime.install({ logger: new DefaultLogger(LOG_LEVELS[env.LOG_LEVEL]), shutdownSignals: [] })
  const logger = Runtime.instance().logger
  const address = env.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS

  const db = createDb(env.DATABASE_URL)
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 3 })
  const temporal = await createTemporalClient(env)
  const { worker, close } = await buildWorker({ env, db, redis, temporal: temporal.client, address })

  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    logger.info(`${signal} received: finishing running activities, then stopping`)
    worker.shutdown()
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)

  // `--no-periodic`: workers (and tests) that must leave the schedules alone.
  if (!process.argv.includes('--no-periodic')) {
    const schedule = await ensurePeriodicSchedule(temporal.client, { intervalMs: env.PERIODIC_INTERVAL })
    logger.info(`periodic-maintenance schedule ${schedule}`, { intervalMs: env.PERIODIC_INTERVAL })
    const reconcile = await ensureReconcileSchedule(temporal.client, { intervalMs: env.RECONCILE_INTERVAL })
    logger.info(`reconcile schedule ${reconcile}`, { intervalMs: env.RECONCILE_INTERVAL })
  }
  logger.info('worker started', { address, namespace: env.TEMPORAL_NAMESPACE, taskQueue: worker.options.taskQueue })
  try {
    await worker.run()
  } finally {
    await Promise.allSettled([close(), redis.quit(), db.destroy(), temporal.close()])
    logger.info('worker stopped')
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`flowpanel worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exit(1)
    },
  )
}
