/**
 * Orders end to end: from "order placed" (the `placeOrder` call, as the web app makes it) to "link delivered" (the
 * `orderToProvision` workflow's result with the subscription URL), through the real worker, Postgres, Redis and a
 * fake Marzban panel, against Temporal's CLI dev server (`temporal server start-dev`) started as its own process
 * (SQLite in memory, no Web UI, `--log-level error`), or the server at `--address host:port`, in real time.
 * The same number of panel users is then created by calling the panel adapter directly (no workflow, no ledger, no
 * database), for the ratio.
 *
 *   npm run bench:orders [-- --orders 40 --parallel-orders 200 --address host:port]
 */
import { randomUUID } from 'node:crypto'
import { Client, Connection } from '@temporalio/client'
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker'
import { Redis } from 'ioredis'
import { envWithDefaults } from '#config/env.ts'
import { addPanel, createPanelDirectory, ensureLocation, updateHealth } from '#db/panels.ts'
import { adjustManual } from '#db/ledger.ts'
import { placeOrder } from '#db/orders.ts'
import { createUser } from '#db/users.ts'
import { RedisPanelStore } from '#activities/panels/store.ts'
import { ownerMarker } from '#activities/panels/username.ts'
import { createTelegramSender } from '#activities/telegram.ts'
import type { OrderResult } from '#temporal/messages.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { startFakeMarzban } from '#tests/fakes/marzban.ts'
import { createWorker, WORKFLOWS_PATH } from '../worker/create-worker.ts'
import { benchServer, percentile } from './support.ts'

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const SEQUENTIAL = arg('orders', 40)
const PARALLEL_TOTAL = arg('parallel-orders', 200)
const CONCURRENCY = [1, 50]
const LATENCIES = [0, 50]

interface Figures {
  count: number
  wallMs: number
  p50: number
  p95: number
}

/** Runs `count` jobs with at most `concurrency` at once; returns throughput and latency percentiles. */
async function measure(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<Figures> {
  const latencies: number[] = []
  let next = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++
        const t = performance.now()
        await job(i)
        latencies.push(performance.now() - t)
      }
    }),
  )
  const wallMs = performance.now() - t0
  const sorted = latencies.sort((a, b) => a - b)
  return { count, wallMs, p50: percentile(sorted, 50), p95: percentile(sorted, 95) }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') })
  const started = performance.now()
  const server = await benchServer()
  const database = await createTestDatabase('bench_orders')
  const { db } = database
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  const marzban = await startFakeMarzban()
  const env = envWithDefaults({ DATABASE_URL: database.url, TEMPORAL_ADDRESS: server.address })
  const store = new RedisPanelStore(redis, `fp:bench:${randomUUID()}:panel:`)
  const panels = createPanelDirectory(db, { appSecret: env.APP_SECRET, store })
  const connection = await Connection.connect({ address: server.address })
  const client = new Client({ connection })
  const nativeConnection = await NativeConnection.connect({ address: server.address })
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') })
  const worker = await createWorker({
    connection: nativeConnection,
    deps: { db, redis, env, temporal: client, panels, telegram: createTelegramSender({ token: undefined, apiRoot: env.TELEGRAM_API_ROOT }) },
    workflowBundle,
    maxConcurrentActivityTaskExecutions: 100,
    maxConcurrentWorkflowTaskExecutions: 100,
  })
  const running = worker.run()

  try {
    const location = await ensureLocation(db, 'bench')
    const panel = await addPanel(db, env.APP_SECRET, { name: 'bench-marzban', type: 'marzban', baseUrl: marzban.url, username: 'admin', password: 'admin', locationId: location.id, capacity: 100_000 })
    await updateHealth(db, panel.id, { reachable: true, ok: true, version: '0.8.4', coreVersion: null, latencyMs: 1, load: null })
    const [plan] = await db('plans').insert({ nameFa: 'bench', nameEn: 'bench', days: 30, dataLimitBytes: String(10 * 1024 ** 3), price: '1000', agentPrice: '800' }).returning('id')
    await db('planLocations').insert({ planId: plan.id, locationId: location.id })
    const admin = await createUser(db, { username: 'bench-admin', role: 'admin' })
    // One buyer per concurrent lane, so wallets do not serialise the orders on one row lock.
    const buyers: number[] = []
    for (let i = 0; i < Math.max(...CONCURRENCY); i++) {
      const user = await createUser(db, { username: `buyer${i}`, role: 'customer' })
      await adjustManual(db, { userId: user.id, amount: '100000000', note: 'bench credit', actorUserId: admin.id, idempotencyKey: `bench-credit-${i}` })
      buyers.push(user.id)
    }
    const adapter = await panels.adapter(panel.id)

    const order = async (i: number) => {
      const placed = await placeOrder(db, client, { userId: buyers[i % buyers.length]!, planId: plan.id, locationId: location.id })
      const result = await client.workflow.getHandle<() => Promise<OrderResult>>(placed.workflowId).result()
      if (!result.subscriptionUrl) throw new Error(`order ${placed.order.id} delivered no link`)
    }
    let directSeq = 0
    const direct = async () => {
      const n = 9_000_000 + directSeq++
      const account = await adapter.createAccount({ username: `fp_${n}`, owner: ownerMarker(n), expiresAt: new Date(Date.now() + 30 * 86_400_000), dataLimitBytes: 10 * 1024 ** 3 })
      if (!account.subscriptionUrl) throw new Error('no link')
    }

    await measure(10, 5, order)
    await measure(10, 5, direct)

    const rows: string[][] = []
    for (const latency of LATENCIES) {
      marzban.latencyMs = latency
      for (const concurrency of CONCURRENCY) {
        const count = concurrency === 1 ? SEQUENTIAL : PARALLEL_TOTAL
        const wf = await measure(count, concurrency, order)
        const dr = await measure(count, concurrency, direct)
        const rate = (f: Figures) => (f.count * 1000) / f.wallMs
        rows.push(
          [`${latency} ms`, String(concurrency), String(count), 'workflow', rate(wf).toFixed(1), wf.p50.toFixed(1), wf.p95.toFixed(1), ''],
          [`${latency} ms`, String(concurrency), String(count), 'direct', rate(dr).toFixed(1), dr.p50.toFixed(1), dr.p95.toFixed(1), `${(rate(dr) / rate(wf)).toFixed(1)}x`],
        )
      }
    }
    const header = ['panel latency', 'concurrency', 'orders', 'path', 'orders/s', 'p50 ms', 'p95 ms', 'direct / workflow']
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
    const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
    console.log(`flowpanel orders: "order placed" (placeOrder) to "link delivered" (workflow result), ${server.description}, real time`)
    console.log('direct = the same panel user created by the adapter alone (no workflow, ledger, database or notification)\n')
    console.log(line(header))
    console.log(widths.map((w) => '-'.repeat(w)).join('  '))
    for (const r of rows) console.log(line(r))
    const cpu = server.cpuSeconds()
    if (cpu !== undefined) console.log(`\nTemporal dev server CPU, start to end: ${cpu.toFixed(1)} s (user + system) over ${((performance.now() - started) / 1000).toFixed(0)} s`)
  } finally {
    worker.shutdown()
    await running
    await Promise.allSettled([connection.close(), nativeConnection.close(), panels.close(), marzban.close()])
    await redis.quit()
    await database.drop()
    await server.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
