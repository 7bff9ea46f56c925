import { randomUUID, timingSafeEqual } from 'node:crypto'
import type { Client } from '@temporalio/client'
import express, { type Express, type NextFunction, type Request, type Response } from 'express'
import type { Redis } from 'ioredis'
import type { Db } from '#db/knex.ts'
import { readBusinessMetrics } from '#db/metrics.ts'
import { errorMessage, type Logger } from './logger.ts'
import { HttpMetrics, MetricsText, writeBusinessMetrics, writeProcessMetrics, writeWorkflowMetrics } from './metrics.ts'

/**
 * Health, readiness and metrics endpoints, plus request ids and access logs, for every flowpanel process
 * that serves HTTP (the web server mounts them through its `mountRoutes` hook; a worker started on its own
 * serves them on HEALTH_PORT):
 *
 * - `GET /healthz`: the process is up and answering (no dependency is checked).
 * - `GET /readyz`: Postgres, Redis and Temporal all answer within a deadline: 200, else 503 with what failed.
 * - `GET /metrics`: Prometheus text: orders by status, provisioning latency, pending payments, workflow
 *   executions and failures, HTTP counters and process memory.
 */

export interface ObservabilityDeps {
  db: Db
  redis: Redis
  /** The Temporal client, connected on demand (web's TemporalProvider.getClient, or a fixed client). */
  temporal: () => Promise<Client>
  namespace: string
  logger: Logger
  /** Orders provisioning longer than this count as stuck in /metrics. */
  stuckAfterSeconds: number
  startedAt?: Date
  /** Deadline of each readiness check. */
  checkTimeoutMs?: number
}

export interface CheckResult {
  ok: boolean
  ms: number
  error?: string
}

export interface Readiness {
  ok: boolean
  checks: { postgres: CheckResult; redis: CheckResult; temporal: CheckResult }
}

async function timed(timeoutMs: number, what: string, fn: () => Promise<unknown>): Promise<CheckResult> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs)
      }),
    ])
    return { ok: true, ms: Math.round(performance.now() - started) }
  } catch (error) {
    return { ok: false, ms: Math.round(performance.now() - started), error: errorMessage(error) }
  } finally {
    clearTimeout(timer)
  }
}

export async function checkReadiness(deps: ObservabilityDeps): Promise<Readiness> {
  const timeout = deps.checkTimeoutMs ?? 2000
  const [postgres, redis, temporal] = await Promise.all([
    timed(timeout, 'Postgres', () => deps.db.raw('select 1')),
    timed(timeout, 'Redis', async () => {
      const answer = await deps.redis.ping()
      if (answer !== 'PONG') throw new Error(`Redis answered ${answer} to PING`)
    }),
    timed(timeout, 'Temporal', async () => {
      const client = await deps.temporal()
      await client.workflowService.describeNamespace({ namespace: deps.namespace })
    }),
  ])
  return { ok: postgres.ok && redis.ok && temporal.ok, checks: { postgres, redis, temporal } }
}

/** Workflow counts by status from Temporal visibility; undefined when Temporal cannot answer. */
async function workflowCounts(deps: ObservabilityDeps): Promise<Record<string, number> | undefined> {
  try {
    const client = await deps.temporal()
    const result = await client.workflow.count('GROUP BY ExecutionStatus')
    const out: Record<string, number> = {}
    for (const group of result.groups) out[String(group.groupValues[0])] = group.count
    return out
  } catch (error) {
    deps.logger.warn('metrics-workflow-counts-failed', { error: errorMessage(error) })
    return undefined
  }
}

export async function renderMetrics(deps: ObservabilityDeps, http?: HttpMetrics): Promise<string> {
  const out = new MetricsText()
  const [business, workflows] = await Promise.all([
    readBusinessMetrics(deps.db, { stuckAfterSeconds: deps.stuckAfterSeconds }).catch((error: unknown) => {
      deps.logger.warn('metrics-database-failed', { error: errorMessage(error) })
      return undefined
    }),
    workflowCounts(deps),
  ])
  out.family('flowpanel_up', 'gauge', 'Whether each dependency answered while these metrics were collected.')
  out.sample('flowpanel_up', business ? 1 : 0, { dependency: 'postgres' })
  out.sample('flowpanel_up', workflows ? 1 : 0, { dependency: 'temporal' })
  if (business) writeBusinessMetrics(out, business)
  if (workflows) writeWorkflowMetrics(out, workflows)
  http?.write(out)
  writeProcessMetrics(out, deps.startedAt ?? new Date())
  return out.toString()
}

export const REQUEST_ID_HEADER = 'X-Request-Id'

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by `requestContext`: the request's id (from a trusted proxy's X-Request-Id, or new). */
    id?: string
    log?: Logger
  }
}

/**
 * Gives every request an id (kept from X-Request-Id when it looks like one, so a proxy's id carries
 * through), echoes it in the response, and writes one access-log line when the response is finished.
 * Query strings are left out of the log: they can carry tokens.
 */
export function requestContext(logger: Logger, http?: HttpMetrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.get(REQUEST_ID_HEADER)
    const id = incoming && /^[A-Za-z0-9._-]{8,128}$/.test(incoming) ? incoming : randomUUID()
    req.id = id
    req.log = logger.child({ requestId: id })
    res.setHeader(REQUEST_ID_HEADER, id)
    const started = performance.now()
    res.on('finish', () => {
      const seconds = (performance.now() - started) / 1000
      http?.observe(req.method, res.statusCode, seconds)
      // Probes are scraped every few seconds; logging them would drown everything else.
      if (req.path === '/healthz' || req.path === '/readyz' || req.path === '/metrics') return
      const fields = { method: req.method, path: req.path, status: res.statusCode, ms: Math.round(seconds * 1000), ip: req.ip }
      if (res.statusCode >= 500) req.log!.error('http-request', fields)
      else req.log!.info('http-request', fields)
    })
    next()
  }
}

/** Loopback, RFC 1918, link-local and unique-local addresses (IPv4, IPv6 and IPv4-mapped IPv6). */
export function isPrivateAddress(address: string | undefined): boolean {
  if (!address) return false
  const ip = address.replace(/^::ffff:/i, '')
  if (ip === '::1' || /^127\./.test(ip)) return true
  if (/^10\./.test(ip) || /^192\.168\./.test(ip) || /^169\.254\./.test(ip)) return true
  const m = /^172\.(\d+)\./.exec(ip)
  if (m && Number(m[1]) >= 16 && Number(m[1]) <= 31) return true
  return /^f[cd][0-9a-f]{2}:/i.test(ip) || /^fe80:/i.test(ip)
}

function bearer(req: Request): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')
  return m?.[1]
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

export interface MountObservabilityOptions extends ObservabilityDeps {
  /**
   * Who may read /metrics and the details of /readyz: anyone presenting this bearer token and, with
   * `privateNetworks`, callers from private networks. `req.ip` is the client as the app's `trust proxy` setting
   * (TRUST_PROXY) reads it, so a request relayed by a trusted reverse proxy counts as the internet client it came from.
   */
  metricsToken?: string
  /** Serve them to loopback and private addresses without the token too (METRICS_PRIVATE_NETWORKS); default no. */
  privateNetworks?: boolean
  http?: HttpMetrics
  /** Process-level facts shown by /healthz, e.g. { service: 'web' }. */
  info?: Record<string, unknown>
}

/** Mounts request ids + access logs (for everything after them) and the three endpoints. */
export function mountObservability(app: Express, options: MountObservabilityOptions): void {
  const http = options.http ?? new HttpMetrics()
  const startedAt = options.startedAt ?? new Date()
  const deps = { ...options, startedAt }
  const internal = (req: Request) =>
    (options.privateNetworks === true && isPrivateAddress(req.ip)) || (!!options.metricsToken && sameText(bearer(req) ?? '', options.metricsToken))
  app.use(requestContext(options.logger, http))
  app.get('/healthz', (_req, res) => {
    res.setHeader('Cache-Control', 'no-store')
    res.json({ status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000), ...options.info })
  })
  app.get('/readyz', async (req, res) => {
    const readiness = await checkReadiness(deps)
    if (!readiness.ok) req.log?.warn('not-ready', { checks: readiness.checks })
    res.setHeader('Cache-Control', 'no-store')
    const status = readiness.ok ? 'ready' : 'not ready'
    res.status(readiness.ok ? 200 : 503).json(internal(req) ? { status, ...readiness } : { status, ok: readiness.ok })
  })
  app.get('/metrics', async (req, res) => {
    res.setHeader('Cache-Control', 'no-store')
    if (!internal(req)) {
      res.status(403).type('text/plain').send(options.privateNetworks ? 'metrics are served to private networks or with the metrics bearer token' : 'metrics are served with the metrics bearer token only')
      return
    }
    res.type('text/plain; version=0.0.4; charset=utf-8').send(await renderMetrics(deps, http))
  })
}

/** A bare HTTP app with only the observability endpoints (a worker running on its own). */
export function createObservabilityApp(options: MountObservabilityOptions & { trustProxy?: boolean | number | string[] }): Express {
  const app = express()
  app.disable('x-powered-by')
  app.set('trust proxy', options.trustProxy ?? 'loopback')
  mountObservability(app, options)
  app.use((_req, res) => res.status(404).type('text/plain').send('not found'))
  return app
}
