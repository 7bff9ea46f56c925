import { createHash, randomUUID } from 'node:crypto'
import { readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestWorkflowEnvironment } from '@temporalio/testing'
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from '@temporalio/worker'
import { createTestEnv } from '#tests/setup/temporal.ts'
import { createActivities, createActivityLog, type ActivityLog } from './activities.ts'

export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url))

let bundle: Promise<WorkflowBundle> | undefined

/**
 * The conformance workflows, bundled once. Test files run in separate workers, so the bundle is also kept in the
 * temp directory under a hash of the workflow sources and the SDK version; bundling is the slowest part of a file's setup.
 */
export function conformanceBundle(): Promise<WorkflowBundle> {
  bundle ??= cachedBundle()
  return bundle
}

async function cachedBundle(): Promise<WorkflowBundle> {
  const dir = path.dirname(workflowsPath)
  const hash = createHash('sha256')
  const require = createRequire(import.meta.url)
  hash.update((require('@temporalio/workflow/package.json') as { version: string }).version)
  for (const file of [...(await readdir(dir)).sort().map((f) => path.join(dir, f)), fileURLToPath(new URL('./activities.ts', import.meta.url))]) {
    if (file.endsWith('.ts')) hash.update(file).update(await readFile(file))
  }
  const cacheFile = path.join(tmpdir(), `flowpanel-conformance-workflows-${hash.digest('hex').slice(0, 16)}.js`)
  try {
    return { code: await readFile(cacheFile, 'utf8') }
  } catch {
    const fresh = await bundleWorkflowCode({ workflowsPath, logger: quietLogger })
    const partial = `${cacheFile}.${process.pid}.tmp`
    await writeFile(partial, fresh.code)
    await rename(partial, cacheFile)
    return fresh
  }
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string, meta?: unknown) {
    console.warn(message, meta)
  },
}

export interface Suite {
  env: TestWorkflowEnvironment
  log: ActivityLog
  taskQueue: string
  worker: Worker
  /** Whether the server skips time; without it (a real server) tests use short durations instead of long ones. */
  skips: boolean
  /** `long` with a time-skipping server, `short` otherwise, so the same tests also run against a real server. */
  pick<T>(long: T, short: T): T
  /** A fresh workflow id with a readable prefix. */
  id(prefix: string): string
  /** Starts another worker on the suite's task queue (for worker hand-over tests). */
  newWorker(): Promise<Worker>
  /**
   * Replays every closed workflow on the suite's task queue with core's replayer, a strict check of event order, ids
   * and attributes. Returns the workflow ids that failed, with the error.
   */
  replayAll(): Promise<{ replayed: number; failures: string[] }>
  teardown(): Promise<void>
}

let runtimeInstalled = false

/** Keeps worker logs to errors, so test output stays readable. */
export function quietRuntime(): void {
  if (runtimeInstalled) return
  runtimeInstalled = true
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') })
  } catch {
    // Already installed by an earlier file in this worker thread.
  }
}

/** One server, one bundled worker and one activity log per test file. */
export async function startSuite(name: string): Promise<Suite> {
  quietRuntime()
  const env = await createTestEnv()
  const log = createActivityLog()
  const taskQueue = `conformance-${name}-${randomUUID().slice(0, 8)}`
  const workflowBundle = await conformanceBundle()
  const newWorker = () =>
    Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(log), shutdownGraceTime: '1s' })
  const worker = await newWorker()
  const running = worker.run()
  return {
    env,
    log,
    taskQueue,
    worker,
    skips: env.supportsTimeSkipping,
    pick: (long, short) => (env.supportsTimeSkipping ? long : short),
    id: (prefix) => `${prefix}-${randomUUID()}`,
    newWorker,
    async replayAll() {
      const histories = []
      for await (const info of env.client.workflow.list({ query: `TaskQueue = '${taskQueue}' AND ExecutionStatus != 'Running'` })) {
        const handle = env.client.workflow.getHandle(info.workflowId, info.runId)
        histories.push({ workflowId: info.workflowId, history: await handle.fetchHistory() })
      }
      const failures: string[] = []
      for await (const result of Worker.runReplayHistories({ workflowBundle }, histories)) {
        if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`)
      }
      return { replayed: histories.length, failures }
    },
    async teardown() {
      if (worker.getState() === 'RUNNING') worker.shutdown()
      await running
      await env.teardown()
    },
  }
}
