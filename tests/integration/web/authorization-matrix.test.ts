import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Role } from '#db/models.ts'
import { makeUser, signedIn, startTestWeb, TestBrowser, type HttpResponse, type TestWeb } from './harness.ts'
import { seedAccount, seedLocation, seedPanel, seedPaymentMethod, seedPendingPayment, seedPlan } from './seed.ts'

/**
 * Every route of the app (read from web/app/routes, so a new route is checked without editing this file),
 * requested as anonymous, customer, agent and admin, by GET and, where the route has an action, by POST.
 * A role that may not use a route gets 403 or the sign-in redirect and never the page's data.
 */
const ROUTES_DIR = fileURLToPath(new URL('../../../web/app/routes/', import.meta.url))
const SECRET = 'MATRIX-SECRET-SHOP'

type Who = 'anonymous' | Role
const WHO: Who[] = ['anonymous', 'customer', 'agent', 'admin']

interface Route {
  file: string
  url: string
  hasAction: boolean
  hasLoader: boolean
}

/** Flat-routes file name to a URL, with ids of rows seeded below for params. */
function toUrl(file: string, ids: Record<string, string>): string {
  const name = file.replace(/\.(tsx|ts)$/, '')
  const segments = name
    .replaceAll('[.]', '\u2024')
    .split('.')
    .map((s) => s.replaceAll('\u2024', '.'))
    .filter((s) => s !== '_index' && !s.startsWith('_'))
    .map((s) => s.replace(/_$/, ''))
    .map((s) => (s === '$' ? 'anything' : s.startsWith('$') ? (ids[`${name}:${s}`] ?? ids[s] ?? '1') : s))
  return `/${segments.join('/')}`
}

async function discoverRoutes(ids: Record<string, string>): Promise<Route[]> {
  const files = (await readdir(ROUTES_DIR)).filter((f) => /\.(tsx|ts)$/.test(f) && !/\.(server|test)\.tsx?$/.test(f))
  const routes = await Promise.all(
    files.map(async (file) => {
      const source = await readFile(ROUTES_DIR + file, 'utf8')
      return {
        file,
        url: toUrl(file, ids),
        hasAction: /export (async )?function action|export const action/.test(source),
        hasLoader: /export (async )?function loader|export const loader/.test(source),
      }
    }),
  )
  return routes.sort((a, b) => a.url.localeCompare(b.url))
}

const PUBLIC_PAGES = new Set(['/', '/login', '/register', '/zarinpal/callback', '/api/v1/openapi.json'])
const ANONYMOUS_ONLY = new Set(['/login', '/register'])
const ROLE_AREAS: Record<string, Role> = { admin: 'admin', agent: 'agent', customer: 'customer' }

/** Describes the outcome a role must get for a GET of a route; returns a failure message or null. */
function checkGet(route: Route, who: Who, response: HttpResponse): string | null {
  const area = ROLE_AREAS[route.url.split('/')[1] ?? '']
  const status = response.status
  const toLogin = status === 302 && (response.location ?? '').startsWith('/login')
  const leaked = response.text.includes(SECRET)
  if (leaked && who !== 'admin') return `leaked admin data (status ${status})`
  if (route.url.startsWith('/api/v1/') && route.url !== '/api/v1/openapi.json') {
    // The reseller API takes bearer tokens only: a session is no key. Unknown API paths are 404.
    return status === 401 || (status === 404 && route.file === 'api.v1.$.ts') ? null : `expected 401 without an API token, got ${status}`
  }
  if (area) {
    if (who === 'anonymous') return toLogin ? null : `expected the sign-in redirect, got ${status} ${response.location ?? ''}`
    if (who !== area) return status === 403 ? null : `expected 403, got ${status} ${response.location ?? ''}`
    return status === 403 || toLogin || status >= 500 ? `expected the page, got ${status} ${response.location ?? ''}` : null
  }
  if (ANONYMOUS_ONLY.has(route.url) || route.url === '/') {
    if (who === 'anonymous') return status === 200 ? null : `expected 200, got ${status}`
    return status === 302 && response.location === `/${who}` ? null : `expected a redirect home, got ${status} ${response.location ?? ''}`
  }
  if (PUBLIC_PAGES.has(route.url)) return status < 500 ? null : `expected a page, got ${status}`
  if (route.url === '/logout' || route.url === '/preferences') return status === 302 ? null : `expected a redirect, got ${status}`
  if (route.url === '/two-factor') return status === 302 ? null : `expected a redirect (no code owed), got ${status}`
  if (route.url.startsWith('/receipts/')) {
    // The seeded receipt belongs to the agent.
    const expected = who === 'anonymous' ? 302 : who === 'admin' || who === 'agent' ? 200 : 404
    return status === expected ? null : `expected ${expected}, got ${status}`
  }
  // Everything else (settings, live status, …) needs a signed-in user.
  if (who === 'anonymous') return status === 200 ? `anonymous got 200` : null
  return status >= 500 ? `server error ${status}` : null
}

let web: TestWeb
const browsers = {} as Record<Who, TestBrowser>
let routes: Route[]

async function tableCounts(): Promise<Record<string, number>> {
  const tables = ['users', 'agents', 'plans', 'locations', 'panels', 'paymentMethods', 'payments', 'ledgerEntries', 'accounts', 'orders']
  const out: Record<string, number> = {}
  for (const t of tables) out[t] = Number((await web.db(t).count<{ count: string }[]>('* as count').first())!.count)
  return out
}

beforeAll(async () => {
  web = await startTestWeb({ label: 'web_matrix' })
  browsers.anonymous = new TestBrowser(web.url)
  await browsers.anonymous.get('/login')
  for (const role of ['customer', 'agent', 'admin'] as const) browsers[role] = (await signedIn(web, role)).browser

  const agentRow = await web.db('users').where({ role: 'agent' }).first()
  const secretAgent = await makeUser(web.db, 'agent', 'matrix_agent')
  await web.db('agents').where({ userId: secretAgent.id }).update({ shopName: SECRET })
  const locationId = await seedLocation(web.db)
  const panelId = await seedPanel(web.db, web.env.APP_SECRET, locationId)
  const planId = await seedPlan(web.db)
  const { accountId } = await seedAccount(web.db, { userId: secretAgent.id, planId, panelId, locationId })
  const { storeReceipt } = await import('#db/receipts.ts')
  const receipt = await storeReceipt(Buffer.from('%PDF-1.4 matrix'), 'r.pdf', { uploadDir: web.uploadDir, maxBytes: 10_000 })
  const paymentId = await seedPendingPayment(web.db, { userId: agentRow.id, methodId: await seedPaymentMethod(web.db), receiptPath: receipt.path, receiptMime: receipt.mime })
  routes = await discoverRoutes({
    'admin.agents.$id:$id': String(secretAgent.id),
    'admin.accounts.$id:$id': String(accountId),
    $paymentId: String(paymentId),
  })
})
afterAll(async () => {
  await web?.close()
})

describe('authorization matrix', () => {
  it('discovers the routes', () => {
    expect(routes.length).toBeGreaterThan(20)
    expect(routes.map((r) => r.url)).toEqual(expect.arrayContaining(['/admin', '/admin/payments', '/admin/workflows', '/login', '/settings']))
  })

  it('answers every GET by role: the page for its role, 403 or the sign-in redirect for others, never the data', async () => {
    const failures: string[] = []
    const table: string[] = []
    for (const route of routes) {
      const cells: string[] = []
      for (const who of WHO) {
        const response = await browsers[who].get(route.url)
        cells.push(`${who}:${response.status}`)
        const problem = checkGet(route, who, response)
        if (problem) failures.push(`GET ${route.url} (${route.file}) as ${who}: ${problem}`)
      }
      table.push(`${route.url.padEnd(40)} ${cells.join('  ')}`)
    }
    expect(failures, table.join('\n')).toEqual([])
  })

  it('refuses the loader data of client navigations (.data) to other roles', async () => {
    const failures: string[] = []
    for (const route of routes.filter((r) => r.url.startsWith('/admin'))) {
      for (const who of ['customer', 'agent'] as const) {
        const response = await browsers[who].data(route.url)
        if (response.text.includes(SECRET)) failures.push(`${route.url}.data as ${who} leaked data`)
        if (response.status === 200 && !/"403"|403|Unauthorized/.test(response.text)) failures.push(`${route.url}.data as ${who}: ${response.status} ${response.text.slice(0, 120)}`)
      }
    }
    expect(failures).toEqual([])
  })

  it('refuses every admin, agent and customer action to other roles and changes nothing', async () => {
    const before = await tableCounts()
    const failures: string[] = []
    for (const route of routes.filter((r) => r.hasAction && ROLE_AREAS[r.url.split('/')[1] ?? ''])) {
      const area = ROLE_AREAS[route.url.split('/')[1]!]!
      for (const who of WHO.filter((w) => w !== area)) {
        const response = await browsers[who].post(route.url, { intent: 'create', id: '1', paymentId: '1', amount: '1000', note: 'x', name: 'x' })
        const ok = who === 'anonymous' ? response.status === 302 && (response.location ?? '').startsWith('/login') : response.status === 403
        if (!ok) failures.push(`POST ${route.url} as ${who}: ${response.status} ${response.location ?? ''}`)
      }
    }
    expect(failures).toEqual([])
    expect(await tableCounts()).toEqual(before)
  })

  it('lets an admin open a customer or agent page only as 403, and the reverse', async () => {
    expect((await browsers.admin.get('/agent')).status).toBe(403)
    expect((await browsers.admin.get('/customer')).status).toBe(403)
    expect((await browsers.customer.get('/admin/agents')).text).not.toContain('matrix_agent')
  })
})
