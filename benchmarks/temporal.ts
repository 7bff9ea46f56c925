/**
 * Throughput and latency of the built-in Temporal test server with the real worker and client.
 *
 *   npm run bench:temporal [-- --sequential 200 --parallel 100 --rounds 5 --in-process | --address host:port]
 *
 * The server runs as its own process (as tests use it), in real-time mode; `--in-process` runs it inside this process,
 * and `--address` uses a server that is already running (ours or a real one, for comparison).
 * Each workflow is `greeting`: one activity, then completion. Round trip = start request to result.
 * Finally it times the time-skipping path the way tests use it: launching the executable through
 * `TestWorkflowEnvironment.createTimeSkipping`, and a workflow that sleeps 30 days.
 */
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Client, Connection } from '@temporalio/client'
import { TestWorkflowEnvironment } from '@temporalio/testing'
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker'
import { startTestServer } from '#temporal/test-server/index.ts'
import { createActivities, createActivityLog } from '#tests/temporal-server/activities.ts'
import { percentile, startServerProcess, TEST_SERVER_LAUNCHER } from './support.ts'

const WORKFLOWS = fileURLToPath(new URL('../tests/temporal-server/workflows/index.ts', import.meta.url))

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

const sequential = arg('sequential', 200)
const parallel = arg('parallel', 100)
const rounds = arg('rounds', 5)
const inProcess = process.argv.includes('--in-process')
const externalAddress = process.argv.includes('--address') ? process.argv[process.argv.indexOf('--address') + 1] : undefined

function summary(label: string, count: number, wallMs: number, latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b)
  return `${label.padEnd(34)} ${String(count).padStart(5)} workflows in ${(wallMs / 1000).toFixed(2).padStart(6)} s = ${((count * 1000) / wallMs).toFixed(1).padStart(6)} wf/s   round trip p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms`
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') })
  const server = externalAddress
    ? { address: externalAddress, stop: async () => {} }
    : inProcess
      ? await startTestServer({ timeSkipping: 'off' })
      : await startServerProcess()
  const stop = 'close' in server ? () => server.close() : server.stop
  const address = server.address
  const taskQueue = `bench-${randomUUID().slice(0, 8)}`
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS, logger: new DefaultLogger('ERROR') })
  const nativeConnection = await NativeConnection.connect({ address })
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle,
    activities: createActivities(createActivityLog()),
    maxConcurrentWorkflowTaskExecutions: 100,
    maxConcurrentActivityTaskExecutions: 100,
  })
  const connection = await Connection.connect({ address })
  const client = new Client({ connection })
  const running = worker.run()

  const once = async () => {
    const t = performance.now()
    await client.workflow.execute('greeting', { taskQueue, workflowId: `bench-${randomUUID()}`, args: ['bench'] })
    return performance.now() - t
  }

  const where = externalAddress ? `server at ${externalAddress}` : inProcess ? 'server in this process' : 'server in its own process'
  console.log(`Temporal test server benchmark (${where}, real-time mode, one-activity workflow)`)
  for (let i = 0; i < 20; i++) await once()

  const seqLatencies: number[] = []
  let t0 = performance.now()
  for (let i = 0; i < sequential; i++) seqLatencies.push(await once())
  console.log(summary('sequential', sequential, performance.now() - t0, seqLatencies))

  const parLatencies: number[] = []
  t0 = performance.now()
  for (let r = 0; r < rounds; r++) parLatencies.push(...(await Promise.all(Array.from({ length: parallel }, once))))
  console.log(summary(`${parallel} in parallel x ${rounds} rounds`, parallel * rounds, performance.now() - t0, parLatencies))

  worker.shutdown()
  await running
  await connection.close()
  await nativeConnection.close()
  await stop()

  let t = performance.now()
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: TEST_SERVER_LAUNCHER } } })
  console.log(`${'createTimeSkipping (launch + connect)'.padEnd(34)} ${(performance.now() - t).toFixed(0)} ms`)
  const skipWorker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(createActivityLog()) })
  await skipWorker.runUntil(async () => {
    await env.client.workflow.execute('greeting', { taskQueue, workflowId: `warm-${randomUUID()}`, args: ['warm'] })
    t = performance.now()
    await env.client.workflow.execute('sleeper', { taskQueue, workflowId: `sleep-${randomUUID()}`, args: [30 * 24 * 60 * 60 * 1000] })
    console.log(`${'30-day timer with time skipping'.padEnd(34)} ${(performance.now() - t).toFixed(0)} ms of real time`)
  })
  await env.teardown()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
