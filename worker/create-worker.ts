import { fileURLToPath } from 'node:url'
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker'
import { createActivities, type ActivityDeps } from '#activities/index.ts'
import { MAIN_TASK_QUEUE } from '#temporal/task-queues.ts'

/** Entry point of the workflow bundle (webpack bundles it; workflow code never runs in the worker's own context). */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url))

export interface CreateWorkerOptions {
  connection: NativeConnection
  namespace?: string
  taskQueue?: string
  /** Dependencies of the activities (database, Redis, Temporal client, panels, Telegram, clock). */
  deps: ActivityDeps
  /** A bundle made once with `bundleWorkflowCode` (tests, benchmarks); otherwise the worker bundles `WORKFLOWS_PATH`. */
  workflowBundle?: { code: string }
  identity?: string
  /** How long shutdown waits for running activities before cancelling them. */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime']
  maxConcurrentActivityTaskExecutions?: number
  maxConcurrentWorkflowTaskExecutions?: number
}

/** Builds flowpanel's worker: every workflow in workflows/index.ts and every activity of `createActivities(deps)`. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? MAIN_TASK_QUEUE,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(options.deps),
    ...(options.identity ? { identity: options.identity } : {}),
    shutdownGraceTime: options.shutdownGraceTime ?? '30 seconds',
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 50,
    ...(options.maxConcurrentWorkflowTaskExecutions ? { maxConcurrentWorkflowTaskExecutions: options.maxConcurrentWorkflowTaskExecutions } : {}),
  })
}
