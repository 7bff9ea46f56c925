import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Client } from '@temporalio/client'
import { Redis } from 'ioredis'
import { envWithDefaults, type Env } from '#config/env.ts'
import type { Db } from '#db/knex.ts'
import type { Role } from '#db/models.ts'
import { createUser } from '#db/users.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { clearRedisNamespace } from '#tests/setup/redis.ts'
import { startWebServer, type WebServer } from '../../../web/server.ts'
import type { TemporalProvider } from '../../../web/app/utils/temporal.server.ts'

/**
 * A running web server on a fresh database, for HTTP-level tests. The database's name gives the app its own
 * Redis prefix (REDIS_PREFIX), so parallel test files never see each other's rate limits or statuses.
 */
export interface TestWeb {
  url: string
  db: Db
  redis: Redis
  env: Env
  server: WebServer
  uploadDir: string
  close: () => Promise<void>
}

export async function startTestWeb(
  options: { label?: string; temporal?: TemporalProvider | Client; env?: Record<string, string> } = {},
): Promise<TestWeb> {
  const database = await createTestDatabase(options.label ?? 'web')
  const uploadDir = await mkdtemp(path.join(tmpdir(), 'fp-uploads-'))
  const env = envWithDefaults({
    DATABASE_URL: database.url,
    NODE_ENV: 'test',
    PUBLIC_URL: 'http://localhost:3000',
    UPLOAD_DIR: uploadDir,
    TEMPORAL_ADDRESS: '',
    ...options.env,
  })
  const redis = new Redis(env.REDIS_URL)
  const server = await startWebServer({
    env,
    db: database.db,
    redis,
    port: 0,
    host: '127.0.0.1',
    mode: 'development',
    optimizeClientDeps: false,
    temporal: options.temporal,
  })
  return {
    url: server.url,
    db: database.db,
    redis,
    env,
    server,
    uploadDir,
    close: async () => {
      await server.close()
      await clearRedisNamespace(redis, env)
      redis.disconnect()
      await database.drop()
      await rm(uploadDir, { recursive: true, force: true })
    },
  }
}

export interface HttpResponse {
  status: number
  headers: Headers
  text: string
  location: string | null
}

/**
 * A tiny browser: keeps cookies, never follows redirects on its own, and fills the CSRF field of posts
 * from the token the app rendered into its last page.
 */
export class TestBrowser {
  cookies = new Map<string, string>()
  csrfToken: string | undefined
  constructor(
    readonly baseUrl: string,
    readonly ip = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}`,
  ) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  private remember(headers: Headers) {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      const expired = attributes.some((a) => /max-age=0\b/i.test(a.trim()) || (/^expires=/i.test(a.trim()) && new Date(a.split('=')[1]!) < new Date()))
      if (expired || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }

  async request(method: string, pathname: string, init: { body?: BodyInit; headers?: Record<string, string> } = {}): Promise<HttpResponse> {
    const response = await fetch(new URL(pathname, this.baseUrl), {
      method,
      redirect: 'manual',
      body: init.body,
      headers: { Cookie: this.cookieHeader(), 'X-Forwarded-For': this.ip, 'User-Agent': 'flowpanel-tests', ...init.headers },
    })
    this.remember(response.headers)
    const text = await response.text()
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1]
    if (token) this.csrfToken = token
    return { status: response.status, headers: response.headers, text, location: response.headers.get('location') }
  }

  get(pathname: string, headers?: Record<string, string>): Promise<HttpResponse> {
    return this.request('GET', pathname, { headers })
  }

  /** Loads the page's loader data as JSON the way client navigations do (single fetch `.data`). */
  async data(pathname: string): Promise<HttpResponse> {
    const url = new URL(pathname, this.baseUrl)
    url.pathname = `${url.pathname === '/' ? '/_root' : url.pathname}.data`
    return this.request('GET', url.pathname + url.search)
  }

  async ensureCsrf(): Promise<string> {
    if (!this.csrfToken) await this.get('/login')
    if (!this.csrfToken) throw new Error('the app rendered no CSRF token')
    return this.csrfToken
  }

  /** A form post as a browser makes it (urlencoded, CSRF token included unless `csrf: false`). */
  async post(pathname: string, fields: Record<string, string | string[]> = {}, options: { csrf?: boolean; headers?: Record<string, string> } = {}): Promise<HttpResponse> {
    const body = new URLSearchParams()
    if (options.csrf !== false) body.set('_csrf', await this.ensureCsrf())
    for (const [key, value] of Object.entries(fields)) {
      for (const v of Array.isArray(value) ? value : [value]) body.append(key, v)
    }
    return this.request('POST', pathname, {
      body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...options.headers },
    })
  }

  async login(username: string, password: string): Promise<HttpResponse> {
    return this.post('/login', { username, password })
  }
}

export const PASSWORD = 'correct horse battery'

export async function makeUser(db: Db, role: Role, username = `${role}_${randomBytes(3).toString('hex')}`): Promise<{ id: number; username: string }> {
  const user = await createUser(db, { username, password: PASSWORD, role })
  if (role === 'agent') await db('agents').insert({ userId: user.id, firstName: 'Test', lastName: 'Agent' })
  return { id: user.id, username }
}

/** A browser signed in as a new user of `role`. */
export async function signedIn(web: TestWeb, role: Role): Promise<{ browser: TestBrowser; user: { id: number; username: string } }> {
  const user = await makeUser(web.db, role)
  const browser = new TestBrowser(web.url)
  const response = await browser.login(user.username, PASSWORD)
  if (response.status !== 302) throw new Error(`sign-in as ${role} failed with ${response.status}: ${response.text.slice(0, 300)}`)
  return { browser, user }
}
