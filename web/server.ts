import { createServer as createHttpServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { ServerBuild } from '@remix-run/node'
import { Client } from '@temporalio/client'
import express, { type Express, type NextFunction, type Request, type Response } from 'express'
import { Redis } from 'ioredis'
import type { ViteDevServer } from 'vite'
import { getEnv, type Env } from '#config/env.ts'
import { createDb, type Db } from '#db/knex.ts'
import type { WebDeps } from './app/utils/context.server.ts'
import { createTemporalProvider, temporalProviderFromClient, type TemporalProvider } from './app/utils/temporal.server.ts'
import { createRequestHandler } from './request-handler.ts'

const webDir = path.dirname(fileURLToPath(import.meta.url))
const defaultBuildDir = path.join(webDir, 'build')

export interface StartWebServerOptions {
  env: Env
  db: Db
  redis: Redis
  /** A provider, a ready client, or nothing to connect lazily to TEMPORAL_ADDRESS. */
  temporal?: TemporalProvider | Client
  /** Port to listen on; 0 picks a free one. Defaults to PORT. */
  port?: number
  host?: string
  /** `development` serves the app through Vite (transform on demand); `production` serves web/build. */
  mode?: 'development' | 'production'
  /** Where the production build is (default web/build; `FLOWPANEL_WEB_BUILD_DIR` at build time moves it). */
  buildDir?: string
  /**
   * Extra express routes mounted before the Remix handler and its cross-site checks, e.g. the
   * Telegram webhook: `mountRoutes: (app) => app.post('/telegram/webhook', handler)`.
   */
  mountRoutes?: (app: Express) => void
  /** Hot reload over the same HTTP server (development only). */
  hmr?: boolean
  /**
   * Pre-bundle browser dependencies in development (default true: browsers need React as ES modules).
   * HTTP-only users such as the integration tests never load client code and turn the scan off.
   */
  optimizeClientDeps?: boolean
}

export interface WebServer {
  url: string
  port: number
  app: Express
  deps: WebDeps
  close: () => Promise<void>
}

/**
 * Rejects unsafe requests whose Origin (or, without one, Referer) is another site. Forms also carry a
 * CSRF token (see csrf.server.ts); this check stops cross-site posts before any route code runs.
 */
export function sameOriginGuard(publicUrl: string) {
  const publicOrigin = new URL(publicUrl).origin
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next()
    const origin = req.get('origin') ?? (req.get('referer') ? safeOrigin(req.get('referer')!) : undefined)
    if (origin === undefined) return next()
    const own = `${req.protocol}://${req.get('host')}`
    if (origin === own || origin === publicOrigin) return next()
    res.status(403).type('text/plain').send('Cross-site request refused: the Origin does not match this site.')
  }
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return 'null'
  }
}

/**
 * Under /api/ every answer has the API's JSON error shape, also for a path no route can match: one with a
 * malformed percent-escape (`%E0%A4%A`) or an encoded control character (`%0d%0a`).
 */
export function apiPathGuard(req: Request, res: Response, next: NextFunction) {
  if (!req.path.startsWith('/api/')) return next()
  let decoded: string
  try {
    decoded = decodeURIComponent(req.path)
  } catch {
    decoded = '\u0000'
  }
  // eslint-disable-next-line no-control-regex -- a control character in a path is what is refused here
  if (!/[\u0000-\u001f\u007f]/.test(decoded)) return next()
  res
    .status(404)
    .set('Cache-Control', 'no-store')
    .json({ error: { code: 'NOT_FOUND', message: `No endpoint ${req.method} at this path (a malformed percent-escape or a control character); see /api/v1/openapi.json` } })
}

function securityHeaders(_req: Request, res: Response, next: NextFunction) {
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('Referrer-Policy', 'same-origin')
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Content-Security-Policy', "frame-ancestors 'none'; object-src 'none'; base-uri 'self'")
  next()
}

/** Starts the web process: express + the Remix app. Tests, `npm start` and `npm run dev:web` all use this. */
export async function startWebServer(options: StartWebServerOptions): Promise<WebServer> {
  const { env, db, redis } = options
  const mode = options.mode ?? (env.NODE_ENV === 'production' ? 'production' : 'development')
  const temporal =
    options.temporal instanceof Client
      ? temporalProviderFromClient(options.temporal, { namespace: env.TEMPORAL_NAMESPACE, uiUrl: env.TEMPORAL_UI_URL })
      : (options.temporal ??
        createTemporalProvider({ address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE, uiUrl: env.TEMPORAL_UI_URL }))
  const deps: WebDeps = { env, db, redis, temporal }

  const app = express()
  app.disable('x-powered-by')
  // Only the peers of TRUST_PROXY (a reverse proxy) may tell us the client's address; nobody else may.
  app.set('trust proxy', env.TRUST_PROXY)
  const httpServer: Server = createHttpServer(app)

  options.mountRoutes?.(app)

  app.use(securityHeaders)
  app.use(apiPathGuard)
  app.use(sameOriginGuard(env.PUBLIC_URL))

  let vite: ViteDevServer | undefined
  let build: ServerBuild | (() => Promise<ServerBuild>)
  if (mode === 'development') {
    const { createServer } = await import('vite')
    vite = await createServer({
      configFile: path.join(webDir, 'vite.config.ts'),
      // Without hot reload (tests, HTTP-only use) there is no websocket and no file watcher: the app is read once.
      server: options.hmr ? { middlewareMode: true, hmr: { server: httpServer } } : { middlewareMode: true, hmr: false, ws: false, watch: null },
      optimizeDeps: (options.optimizeClientDeps ?? true) ? undefined : { noDiscovery: true, include: [] },
      logLevel: options.hmr ? 'info' : 'warn',
    })
    const devServer = vite
    // Vite's file middlewares decodeURI the path and log a stack for a malformed escape; such a path names no file,
    // so it goes straight to the app, as express.static lets it through in production.
    app.use((req, res, next) => {
      try {
        decodeURI(req.url)
      } catch {
        return next()
      }
      devServer.middlewares(req, res, next)
    })
    build = () => devServer.ssrLoadModule('virtual:remix/server-build') as Promise<ServerBuild>
  } else {
    const buildDir = options.buildDir ?? defaultBuildDir
    const serverEntry = path.join(buildDir, 'server/index.js')
    build = (await import(pathToFileURL(serverEntry).href)) as ServerBuild
    app.use('/assets', express.static(path.join(buildDir, 'client/assets'), { immutable: true, maxAge: '1y' }))
    app.use(express.static(path.join(buildDir, 'client'), { maxAge: '1h' }))
  }

  // Mounted with use(), not all('*'): a '*' route makes express decode the path as a parameter and answer a
  // malformed percent-escape with its own HTML 400, before the app (and the API's JSON errors) can see it.
  app.use(
    createRequestHandler({
      build,
      mode,
      env,
      getLoadContext: (req, body) => ({ ...deps, clientIp: req.ip ?? req.socket.remoteAddress ?? 'unknown', body }),
    }),
  )

  const host = options.host ?? '0.0.0.0'
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject)
    httpServer.listen(options.port ?? env.PORT, host, () => resolve())
  })
  const port = (httpServer.address() as AddressInfo).port
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`

  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= (async () => {
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve())
        httpServer.closeAllConnections()
      })
      await vite?.close()
      // A provider made here is ours to close; one passed in belongs to the caller.
      if (options.temporal === undefined) await temporal.close()
    })()
    return closed
  }
  return { url, port, app, deps, close }
}

async function main(): Promise<void> {
  const env = getEnv()
  if (!env.DATABASE_URL) {
    process.stderr.write('flowpanel web cannot start: DATABASE_URL is required (npm start runs an embedded Postgres for you)\n')
    process.exit(1)
  }
  const db = createDb(env.DATABASE_URL)
  const redis = new Redis(env.REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 })
  const server = await startWebServer({ env, db, redis, hmr: env.NODE_ENV !== 'production' })
  process.stdout.write(`flowpanel web listening on ${server.url} (${env.PUBLIC_URL})\n`)
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await server.close()
    await db.destroy()
    redis.disconnect()
    process.exit(0)
  }
  process.once('SIGINT', () => void stop())
  process.once('SIGTERM', () => void stop())
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`flowpanel web failed to start: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
