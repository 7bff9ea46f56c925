import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import type { Client } from '@temporalio/client'
import type { TestWorkflowEnvironment } from '@temporalio/testing'
import express, { type Express } from 'express'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createObservabilityApp, isPrivateAddress, mountObservability, type MountObservabilityOptions } from '../../../infra/health.ts'
import { createLogger } from '../../../infra/logger.ts'
import type { Db } from '#db/knex.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { createTestEnv } from '#tests/setup/temporal.ts'
import { seedReportData } from '../reports/seed.ts'

let db: Db
let drop: () => Promise<void>
let redis: Redis
let temporal: TestWorkflowEnvironment
let client: Client
const servers: Server[] = []
const logLines: Record<string, unknown>[] = []

function options(overrides: Partial<MountObservabilityOptions> = {}): MountObservabilityOptions {
  return {
    db,
    redis,
    temporal: async () => client,
    namespace: 'default',
    logger: createLogger({ service: 'test', write: (line) => logLines.push(JSON.parse(line)) }),
    stuckAfterSeconds: 1800,
    checkTimeoutMs: 1500,
    // The tests below read /metrics from loopback; the token-only default has its own test.
    privateNetworks: true,
    ...overrides,
  }
}

async function listen(app: Express): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  servers.push(server)
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** The value of one sample in Prometheus text, e.g. sample(text, 'flowpanel_orders{status="delivered"}'). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '))
  if (!line) throw new Error(`no sample ${series} in:\n${text}`)
  return Number(line.slice(series.length + 1))
}

async function scalar(sql: string): Promise<number> {
  const res = await db.raw(sql)
  return Number(Object.values(res.rows[0] as Record<string, unknown>)[0])
}

beforeAll(async () => {
  ;({ db, drop } = await createTestDatabase('observability'))
  await seedReportData(db)
  redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 })
  // /readyz and /metrics count workflows by status: that needs visibility, so the CLI dev server.
  temporal = await createTestEnv({ server: 'dev' })
  client = temporal.client
})

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  await temporal?.teardown()
  redis?.disconnect()
  await drop?.()
})

describe('health, readiness and metrics', () => {
  it('/healthz answers while the process is up', async () => {
    const base = await listen(createObservabilityApp(options({ info: { service: 'worker' } })))
    const res = await fetch(`${base}/healthz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'ok', service: 'worker' })
  })

  it('/readyz is 200 when Postgres, Redis and Temporal answer, 503 naming what does not', async () => {
    const base = await listen(createObservabilityApp(options()))
    const ok = await fetch(`${base}/readyz`)
    expect(ok.status).toBe(200)
    const body = (await ok.json()) as { checks: Record<string, { ok: boolean }> }
    expect(body.checks.postgres!.ok && body.checks.redis!.ok && body.checks.temporal!.ok).toBe(true)

    const deadRedis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
    deadRedis.on('error', () => {})
    const deadTemporal = async (): Promise<Client> => {
      throw new Error('Temporal at 127.0.0.1:1 is unreachable')
    }
    const badBase = await listen(createObservabilityApp(options({ redis: deadRedis, temporal: deadTemporal })))
    const bad = await fetch(`${badBase}/readyz`)
    expect(bad.status).toBe(503)
    const badBody = (await bad.json()) as { status: string; checks: Record<string, { ok: boolean; error?: string }> }
    expect(badBody.status).toBe('not ready')
    expect(badBody.checks.postgres!.ok).toBe(true)
    expect(badBody.checks.redis!.ok).toBe(false)
    expect(badBody.checks.temporal).toMatchObject({ ok: false, error: 'Temporal at 127.0.0.1:1 is unreachable' })
    deadRedis.disconnect()
  })

  it('/metrics reports orders by status, provisioning latency, pending payments, stuck orders and workflow failures', async () => {
    const [user] = await db('users').where({ username: 'cust_sara' }).select('id')
    const [plan] = await db('plans').select('id')
    const [method] = await db('paymentMethods').select('id')
    await db('payments').insert({ userId: user.id, methodId: method.id, amount: 123_456, status: 'PENDING' })
    await db('orders').insert({ userId: user.id, planId: plan.id, price: 1000, status: 'provisioning', createdAt: new Date(Date.now() - 2 * 3600_000) })
    // Workflows: one left running, one timed out (no worker polls this queue, so the 1 s run timeout fires).
    await client.workflow.start('noSuchWorkflow', { taskQueue: 'observability-test', workflowId: 'metrics-running', args: [] })
    const timedOut = await client.workflow.start('noSuchWorkflow', { taskQueue: 'observability-test', workflowId: 'metrics-timeout', args: [], workflowExecutionTimeout: '1s' })
    await expect(timedOut.result()).rejects.toThrow()

    const base = await listen(createObservabilityApp(options()))
    const res = await fetch(`${base}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/)
    const text = await res.text()

    for (const status of ['delivered', 'failed', 'refunded', 'provisioning', 'cancelled']) {
      expect(sample(text, `flowpanel_orders{status="${status}"}`), status).toBe(await scalar(`select count(*) from orders where status = '${status}'`))
    }
    const delivered = await scalar('select count(*) from orders where delivered_at is not null')
    expect(delivered).toBeGreaterThan(0)
    expect(sample(text, 'flowpanel_provisioning_latency_seconds_count')).toBe(delivered)
    expect(sample(text, 'flowpanel_provisioning_latency_seconds_bucket{le="+Inf"}')).toBe(delivered)
    expect(sample(text, 'flowpanel_payments_pending')).toBe(1)
    expect(sample(text, 'flowpanel_payments_pending_amount')).toBe(123_456)
    expect(sample(text, 'flowpanel_orders_stuck')).toBe(1)
    expect(sample(text, 'flowpanel_agents_negative_credit')).toBe(1)
    expect(sample(text, 'flowpanel_workflow_executions{status="Running"}')).toBeGreaterThanOrEqual(1)
    expect(sample(text, 'flowpanel_workflow_executions{status="TimedOut"}')).toBe(1)
    expect(sample(text, 'flowpanel_workflow_failures')).toBe(1)
    expect(sample(text, 'flowpanel_up{dependency="postgres"}')).toBe(1)
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(1_000_000)
    expect(text).toMatch(/^# TYPE flowpanel_provisioning_latency_seconds histogram$/m)
  })

  it('with the token required, a private address is not enough, and behind a trusted proxy the internet client is what counts', async () => {
    const app = express()
    // The compose default: the host's proxy connects from the compose network's gateway, a private address.
    app.set('trust proxy', ['loopback', 'uniquelocal'])
    mountObservability(app, options({ metricsToken: 'metrics-token-for-tests', privateNetworks: false }))
    const base = await listen(app)
    // From the proxy itself (no X-Forwarded-For): private, but the token is required.
    expect((await fetch(`${base}/metrics`)).status).toBe(403)
    expect(await (await fetch(`${base}/metrics`)).text()).toBe('metrics are served with the metrics bearer token only')
    expect((await fetch(`${base}/metrics`, { headers: { Authorization: 'Bearer metrics-token-for-tests' } })).status).toBe(200)
    // An internet client that claims a private address through the proxy is still the internet client.
    const forged = { 'X-Forwarded-For': '10.0.0.5, 203.0.113.9' }
    expect((await fetch(`${base}/metrics`, { headers: forged })).status).toBe(403)
    expect(await (await fetch(`${base}/readyz`, { headers: forged })).json()).toEqual({ status: 'ready', ok: true })
    // Upper case and a trailing slash reach the same route, and the same refusal.
    for (const p of ['/METRICS', '/Metrics/', '/metrics/']) expect((await fetch(`${base}${p}`, { headers: forged })).status, p).toBe(403)

    const open = express()
    open.set('trust proxy', ['loopback', 'uniquelocal'])
    mountObservability(open, options({ privateNetworks: true }))
    const openBase = await listen(open)
    expect((await fetch(`${openBase}/metrics`)).status).toBe(200)
    expect((await fetch(`${openBase}/metrics`, { headers: forged })).status).toBe(403)
    expect((await fetch(`${openBase}/metrics`, { headers: { 'X-Forwarded-For': '192.168.1.20' } })).status).toBe(200)
  })

  it('serves metrics to private networks (when opened) or with the bearer token; request ids go to the response and the log', async () => {
    const app = express()
    // As in the web server: X-Forwarded-For is believed from a proxy on loopback.
    app.set('trust proxy', 'loopback')
    mountObservability(app, options({ metricsToken: 'metrics-token-for-tests', privateNetworks: true }))
    app.get('/hello', (req, res) => {
      req.log?.info('hello-handled', { apiToken: 'do-not-log-me', url: 'postgres://u:pw123@db/x' })
      res.send('hi')
    })
    const base = await listen(app)

    const publicClient = { 'X-Forwarded-For': '203.0.113.9' }
    expect((await fetch(`${base}/metrics`, { headers: publicClient })).status).toBe(403)
    expect((await fetch(`${base}/metrics`, { headers: { ...publicClient, Authorization: 'Bearer wrong' } })).status).toBe(403)
    expect((await fetch(`${base}/metrics`, { headers: { ...publicClient, Authorization: 'Bearer metrics-token-for-tests' } })).status).toBe(200)
    expect((await fetch(`${base}/metrics`, { headers: { 'X-Forwarded-For': '10.1.2.3' } })).status).toBe(200)
    const publicReady = (await (await fetch(`${base}/readyz`, { headers: publicClient })).json()) as Record<string, unknown>
    expect(publicReady).toEqual({ status: 'ready', ok: true })

    logLines.length = 0
    const res = await fetch(`${base}/hello`, { headers: { 'X-Request-Id': 'req-from-proxy-0001' } })
    expect(res.headers.get('x-request-id')).toBe('req-from-proxy-0001')
    const fresh = await fetch(`${base}/hello`, { headers: { 'X-Request-Id': 'bad id with spaces' } })
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const handled = logLines.find((l) => l.event === 'hello-handled')!
    expect(handled).toMatchObject({ requestId: 'req-from-proxy-0001', apiToken: '[redacted]', url: 'postgres://u:***@db/x', service: 'test' })
    const access = logLines.find((l) => l.event === 'http-request' && l.requestId === 'req-from-proxy-0001')!
    expect(access).toMatchObject({ method: 'GET', path: '/hello', status: 200, level: 'info' })
    expect(JSON.stringify(logLines)).not.toContain('pw123')
  })

  it('tells private addresses from public ones', () => {
    for (const ip of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fd00::1']) expect(isPrivateAddress(ip), ip).toBe(true)
    for (const ip of ['203.0.113.9', '172.32.0.1', '8.8.8.8', '2001:db8::1', undefined]) expect(isPrivateAddress(ip), String(ip)).toBe(false)
  })
})
