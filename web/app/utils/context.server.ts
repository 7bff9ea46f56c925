import type { Redis } from 'ioredis'
import type { Env } from '#config/env.ts'
import type { Db } from '#db/knex.ts'
import type { RequestBody } from './body-limits.server.ts'
import type { TemporalProvider } from './temporal.server.ts'

/** Process-wide dependencies of the web app: one of each per process, created by web/server.ts. */
export interface WebDeps {
  env: Env
  db: Db
  redis: Redis
  temporal: TemporalProvider
}

/** Per-request facts only the HTTP layer knows. */
export interface RequestFacts {
  /** The client's address (X-Forwarded-For is believed only from the proxies of TRUST_PROXY). */
  clientIp: string
  /** The route's body limit, and whether the body went past it (then it was not read; see body-limits.server.ts). */
  body: RequestBody
}

declare module '@remix-run/node' {
  interface AppLoadContext extends WebDeps, RequestFacts {}
}
