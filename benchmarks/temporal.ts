/**
 * Throughput and latency of Temporal's CLI dev server (`temporal server start-dev`) with the real worker and client,
 * then the time-skipping path the workflow tests use.
 *
 *   npm run bench:temporal [-- --sequential 200 --parallel 100 --rounds 5 --address host:port]
 *
 * The dev server is started as its own process (SQLite in memory, no Web UI, `--log-level error`) on a free port;
 * `--address` uses a server that is already running instead. Each workflow is `greeting` (benchmarks/workflows): one
 * activity, then completion. Round trip = start request to result. It prints the dev server's CPU time for the rounds.
 * Finally it times sdk-java's time-skipping test server (findTemporalTestServer) as tests launch it,
 * `TestWorkflowEnvironment.createTimeSkipping` with an existing path, and a workflow that sleeps 30 days on it.
 */
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Client, Connection } from '@temporalio/client'
import { TestWorkflowEnvironment } from '@temporalio/testing'
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker'
import { findTemporalTestServer, SETUP_HINT } from '#temporal/servers.ts'
import { benchServer, flag, percentile } from './support.ts'
import * as activities from './workflows/activities.ts'

const WORKFLOWS = fileURLToPath(new URL('./workflows/index.ts', import.meta.url))

const sequential = Number(flag('sequential') ?? 200)
const parallel = Number(flag('parallel') ?? 100)
const rounds = Number(flag('rounds') ?? 5)

function summary(label: string, count: number, wallMs: number, latencies: number[]): string {
  const sorted = [...latencies].sort((a, b) => a - b)
  return `${label.padEnd(38)} ${String(count).padStart(5)} workflows in ${(wallMs / 1000).toFixed(2).padStart(6)} s = ${((count * 1000) / wallMs).toFixed(1).padStart(6)} wf/s   round trip p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms`
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') })
  const testServer = findTemporalTestServer()
  if (!testServer) throw new Error(`no Temporal time-skipping test server found: ${SETUP_HINT}`)

  let t = performance.now()
  const server = await benchServer()
  const startMs = performance.now() - t
  const taskQueue = `bench-${randomUUID().slice(0, 8)}`
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS, logger: new DefaultLogger('ERROR') })
  const nativeConnection = await NativeConnection.connect({ address: server.address })
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle,
    activities,
    maxConcurrentWorkflowTaskExecutions: 100,
    maxConcurrentActivityTaskExecutions: 100,
  })
  const connection = await Connection.connect({ address: server.address })
  const client = new Client({ connection })
  const running = worker.run()

  const once = async () => {
    const t = performance.now()
    await client.workflow.execute('greeting', { taskQueue, workflowId: `bench-${randomUUID()}`, args: ['bench'] })
    return performance.now() - t
  }

  try {
    console.log(`Temporal benchmark (${server.description}, real time, one-activity workflow)`)
    if (server.cpuSeconds() !== undefined) console.log(`${'dev server start (to health check)'.padEnd(38)} ${startMs.toFixed(0)} ms`)
    for (let i = 0; i < 20; i++) await once()
    const cpuBefore = server.cpuSeconds()

    const seqLatencies: number[] = []
    let t0 = performance.now()
    for (let i = 0; i < sequential; i++) seqLatencies.push(await once())
    console.log(summary('sequential', sequential, performance.now() - t0, seqLatencies))

    const parLatencies: number[] = []
    t0 = performance.now()
    for (let r = 0; r < rounds; r++) parLatencies.push(...(await Promise.all(Array.from({ length: parallel }, once))))
    console.log(summary(`${parallel} in parallel x ${rounds} rounds`, parallel * rounds, performance.now() - t0, parLatencies))

    const cpuAfter = server.cpuSeconds()
    if (cpuBefore !== undefined && cpuAfter !== undefined) {
      const total = sequential + parallel * rounds
      console.log(`${'dev server CPU over both'.padEnd(38)} ${(cpuAfter - cpuBefore).toFixed(2)} s = ${(((cpuAfter - cpuBefore) * 1000) / total).toFixed(2)} ms per workflow`)
    }
  } finally {
    worker.shutdown()
    await running
    await connection.close()
    await nativeConnection.close()
    await server.stop()
  }

  t = performance.now()
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServer.path } } })
  console.log(`${'createTimeSkipping (launch + connect)'.padEnd(38)} ${(performance.now() - t).toFixed(0)} ms   (${testServer.path})`)
  try {
    const skipWorker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities })
    await skipWorker.runUntil(async () => {
      await env.client.workflow.execute('greeting', { taskQueue, workflowId: `warm-${randomUUID()}`, args: ['warm'] })
      t = performance.now()
      await env.client.workflow.execute('sleeper', { taskQueue, workflowId: `sleep-${randomUUID()}`, args: [30 * 24 * 60 * 60 * 1000] })
      console.log(`${'30-day timer with time skipping'.padEnd(38)} ${(performance.now() - t).toFixed(0)} ms of real time`)
    })
  } finally {
    await env.teardown()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
