import { readdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiToken } from '#db/api-tokens.ts'
import type { Role } from '#db/models.ts'
import { makeUser, signedIn, startTestWeb, TestBrowser, type HttpResponse, type TestWeb } from './harness.ts'
import { seedAccount, seedLocation, seedPanel, seedPaymentMethod, seedPendingPayment, seedPlan } from './seed.ts'

/**
 * Bad input everywhere, generated: every form the app renders (found by signing in as each role and reading the
 * pages of web/app/routes, so a new form is fuzzed without editing this file), every route with an id in its path,
 * and every reseller API endpoint get NUL and other control characters, broken surrogates, huge, negative and
 * fractional numbers, malformed percent-escapes and bodies of the wrong Content-Type. No answer may be a server
 * error, the API always answers its JSON error shape, and a refused request changes no row.
 *
 * `npm test` runs a fixed seed and a bounded count; a longer run: `FUZZ_RUNS=5000 npx vitest run tests/integration/web/fuzz.test.ts`
 * (`FUZZ_SEED=n` for another sequence). The test prints how many requests it sent and how many were server errors.
 */
const RUNS = Number(process.env.FUZZ_RUNS) || 60
/** Per property: a request with its two table checksums takes tens of milliseconds. */
const TIMEOUT = 60_000 + RUNS * 4 * 250
const SEED = Number(process.env.FUZZ_SEED) || 1313
const ROUTES_DIR = fileURLToPath(new URL('../../../web/app/routes/', import.meta.url))

type Who = 'anonymous' | Role
const WHO: Who[] = ['anonymous', 'customer', 'agent', 'admin']

// ---- generated values ----------------------------------------------------------------------------

const CONTROL = fc.constantFrom('\u0000', '\u0001', '\u0007', '\u0008', '\u000b', '\u001b', '\u007f', '\u0085', '\u009b')
const plain = fc.string({ maxLength: 12 })
/**
 * Text no field may accept: a control character (never a line break or tab) inside it. (At either end a
 * whitespace control such as U+000B is trimmed like a space, which leaves acceptable text.)
 */
const badText = fc.oneof(
  fc.tuple(plain, CONTROL, plain).map(([a, c, b]) => `${a}x${c}x${b}`),
  fc.tuple(fc.integer({ min: 300, max: 20_000 }), CONTROL).map(([n, c]) => `${'x'.repeat(n)}${c}x`),
  fc.constantFrom('\u0000', 'a\u0000b', '\u0000'.repeat(64), 'x\u0000\u001b[31m'),
)
/** JSON can also carry a broken surrogate (`"\ud800"`), which a form body cannot: browsers send U+FFFD instead. */
const badJsonText = fc.oneof(badText, fc.tuple(plain, fc.constantFrom('\ud800', '\udfff', '\udbff'), plain).map(([a, s, b]) => `${a}${s}${b}`))
/** Numbers no id or amount field may accept. */
const badNumber = fc.oneof(
  fc.constantFrom('2147483648', '9223372036854775808', '99999999999999999999999999', '-1', '-0', '0', '1.5', '0.0001', '1e3', '1e999', 'NaN', 'Infinity', '0x10', '+1', ' ', '１２', '1 2', '1,5'),
  fc.bigInt({ min: 2n ** 31n, max: 2n ** 80n }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)).map(String),
  fc.integer({ min: -2_147_483_648, max: -1 }).map(String),
  badText,
)
/** Percent-encodes the UTF-8 bytes of a string; unlike encodeURIComponent it never throws on a broken surrogate. */
const enc = (text: string) => Buffer.from(text).toString('hex').replace(/../g, '%$&')

const badPathSegment = fc.oneof(
  fc.constantFrom('%', '%ZZ', '%E0%A4%A', '%C0%80', '%FF', '%00', '1%00', '%0d%0a', '%u0041', '1.5', '-1', '0', '2147483648', '99999999999999999999', '1e3', 'abc', '%20', '..%2f'),
  badNumber.map((n) => enc(n).slice(0, 3000)),
)

// ---- the app's forms -----------------------------------------------------------------------------

interface FormField {
  name: string
  value: string
  numeric: boolean
}
interface FormTarget {
  who: Who
  page: string
  method: 'GET' | 'POST'
  action: string
  multipart: boolean
  fields: FormField[]
  submitter: { name: string; value: string } | null
}

function decodeHtml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of tag.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?/g)) out[m[1]!.toLowerCase()] = decodeHtml(m[2] ?? '')
  return out
}

/** The forms of a rendered page, one target per submit button (React renders regular HTML: attributes in double quotes). */
function formsOf(html: string, page: string, who: Who): FormTarget[] {
  const targets: FormTarget[] = []
  for (const form of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const attrs = attributes(form[1]!)
    const method = (attrs.method ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET'
    const action = new URL(attrs.action || page, 'http://x').pathname + new URL(attrs.action || page, 'http://x').search
    const fields = new Map<string, FormField>()
    const submitters: { name: string; value: string }[] = []
    for (const tag of form[2]!.matchAll(/<(input|textarea|select|button)\b([^>]*)>/g)) {
      const a = attributes(tag[2]!)
      if (!a.name) continue
      if (tag[1] === 'button' || a.type === 'submit') {
        submitters.push({ name: a.name, value: a.value ?? '' })
        continue
      }
      const value = a.value ?? ''
      const numeric = a.type === 'number' || /^\d+$/.test(value) || /(^id$|Id$|Ids$|^amount$|Limit$|^price$|^days$|^capacity$)/.test(a.name) || a.inputmode === 'numeric'
      if (!fields.has(a.name)) fields.set(a.name, { name: a.name, value, numeric })
    }
    const base = { who, page, method, action, multipart: (attrs.enctype ?? '').includes('multipart'), fields: [...fields.values()] } satisfies Omit<FormTarget, 'submitter'>
    if (submitters.length === 0) targets.push({ ...base, submitter: null })
    for (const submitter of submitters) targets.push({ ...base, submitter })
  }
  return targets
}

/** Flat-routes file name to a URL, with ids of seeded rows for params. */
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

interface RouteFile {
  file: string
  url: string
  /** The URL with `{param}` where the file has `$param`. */
  template: string
  hasAction: boolean
  params: string[]
}

async function routeFiles(ids: Record<string, string>): Promise<RouteFile[]> {
  const files = (await readdir(ROUTES_DIR)).filter((f) => /\.(tsx|ts)$/.test(f) && !/\.(server|test)\.tsx?$/.test(f))
  return Promise.all(
    files.map(async (file) => {
      const source = await readFile(ROUTES_DIR + file, 'utf8')
      const params = [...file.matchAll(/\$([a-zA-Z]+)/g)].map((m) => m[1]!)
      const placeholders = Object.fromEntries(params.map((p) => [`$${p}`, `{${p}}`]))
      return { file, url: toUrl(file, ids), template: toUrl(file, placeholders), hasAction: /export (async )?function action|export const action/.test(source), params }
    }),
  )
}

const AREA: Record<string, Who> = { admin: 'admin', agent: 'agent', customer: 'customer' }
const whoFor = (url: string): Who => AREA[url.split('/')[1] ?? ''] ?? 'anonymous'

// ---- the world -----------------------------------------------------------------------------------

let web: TestWeb
const browsers = {} as Record<Who, TestBrowser>
let routes: RouteFile[]
let forms: FormTarget[]
let apiTokens: string[]
let seeded: { accountId: number; orderId: number; paymentId: number; planId: number; locationId: number }
const stats = { requests: 0, serverErrors: 0 }

/** One checksum per table (volatile columns left out), so a refused request that wrote anything is seen. */
async function snapshot(): Promise<Record<string, string>> {
  const volatile: Record<string, string[]> = { api_tokens: ['last_used_at'], users: ['last_login_at', 'last_seen_at'], sessions: ['expires_at'] }
  const tables: string[] = (await web.db.raw(`select tablename from pg_tables where schemaname = 'public' and tablename not like 'knex_%'`)).rows.map((r: { tablename: string }) => r.tablename)
  const columns = tables.map((t) => {
    const minus = (volatile[t] ?? []).map((c) => ` - '${c}'`).join('')
    return `(select count(*) || ':' || coalesce(md5(string_agg(md5((to_jsonb(x)${minus})::text), '' order by md5((to_jsonb(x)${minus})::text))), '') from "${t}" x) as "${t}"`
  })
  return (await web.db.raw(`select ${columns.join(', ')}`)).rows[0]
}

function changed(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(after).filter((t) => before[t] !== after[t])
}

interface Sent {
  who: Who
  method: string
  path: string
  headers?: Record<string, string>
  body?: BodyInit
  describe: string
}

const failures = new Map<string, string>()

function record(kind: string, sent: Sent, problem: string) {
  const key = `${kind} ${sent.method} ${sent.path.split('?')[0]!.replace(/\/[^/]*%[^/]*|\/\d{6,}|\/-?\d+\.\d+/g, '/…')} ${problem.slice(0, 60)}`
  if (!failures.has(key)) failures.set(key, `${sent.method} ${sent.path.slice(0, 200)} as ${sent.who} (${sent.describe.slice(0, 300)}): ${problem}`)
}

async function send(sent: Sent): Promise<HttpResponse> {
  stats.requests++
  const response = await browsers[sent.who].request(sent.method, sent.path, { body: sent.body, headers: sent.headers }).catch(
    (error: unknown) => ({ status: 599, headers: new Headers(), text: String(error), location: null }) satisfies HttpResponse,
  )
  if (response.status >= 500) stats.serverErrors++
  return response
}

/** The checksums after the last request: every request must leave them as they were, so one snapshot per request does. */
let last: Record<string, string> | undefined

/** Sends a request that must be refused (or answered without a change): no 5xx, no row changed. */
async function expectRefused(kind: string, sent: Sent): Promise<HttpResponse> {
  const before = (last ??= await snapshot())
  const response = await send(sent)
  if (response.status >= 500) record(kind, sent, `server error ${response.status}: ${response.text.replace(/\s+/g, ' ').slice(0, 160)}`)
  last = await snapshot()
  const tables = changed(before, last)
  if (tables.length > 0) record(kind, sent, `changed ${tables.join(', ')} (status ${response.status})`)
  return response
}

function fieldsBody(target: FormTarget, values: Record<string, string>, csrf: string | undefined): URLSearchParams {
  const body = new URLSearchParams()
  if (csrf !== undefined) body.set('_csrf', csrf)
  for (const [k, v] of Object.entries(values)) body.append(k, v)
  return body
}

function multipartBody(values: Record<string, string>, csrf: string | undefined): FormData {
  const body = new FormData()
  if (csrf !== undefined) body.set('_csrf', csrf)
  for (const [k, v] of Object.entries(values)) body.append(k, v)
  return body
}

beforeAll(async () => {
  web = await startTestWeb({ label: 'web_fuzz' })
  browsers.anonymous = new TestBrowser(web.url)
  await browsers.anonymous.get('/login')
  const users = {} as Record<Role, { id: number }>
  for (const role of ['customer', 'agent', 'admin'] as const) {
    const s = await signedIn(web, role)
    browsers[role] = s.browser
    users[role] = s.user
  }
  const locationId = await seedLocation(web.db)
  const panelId = await seedPanel(web.db, web.env.APP_SECRET, locationId)
  const planId = await seedPlan(web.db)
  await web.db('planLocations').insert({ planId, locationId })
  const methodId = await seedPaymentMethod(web.db)
  const { accountId, orderId } = await seedAccount(web.db, { userId: users.agent.id, planId, panelId, locationId })
  await seedAccount(web.db, { userId: users.customer.id, planId, panelId, locationId })
  const otherAgent = await makeUser(web.db, 'agent')
  const paymentId = await seedPendingPayment(web.db, { userId: users.agent.id, methodId })
  seeded = { accountId, orderId, paymentId, planId, locationId }
  apiTokens = []
  for (const userId of [users.agent.id, otherAgent.id]) {
    for (let i = 0; i < 8; i++) apiTokens.push((await createApiToken(web.db, { userId, name: `fuzz ${i}` })).token)
  }

  routes = await routeFiles({ $id: String(accountId), 'admin.agents.$id:$id': String(otherAgent.id), 'agent.users.$id._index:$id': String(accountId), $paymentId: String(paymentId), $kind: 'order' })
  const pages = new Set<string>()
  for (const route of routes) {
    if (route.url.startsWith('/api/') || /\.(ts)$/.test(route.file)) continue
    pages.add(route.url)
  }
  const found: FormTarget[] = []
  for (const page of pages) {
    for (const who of WHO) {
      const response = await browsers[who].get(page)
      if (response.status !== 200) continue
      found.push(...formsOf(response.text, page, who))
      // Edit forms and other variants behind same-page links (`?edit=3`, `?method=2`), one per kind of link.
      const variants = new Map<string, string>()
      for (const m of response.text.matchAll(/href="(\?[^"#]+)"/g)) {
        const query = decodeHtml(m[1]!)
        const shape = [...new URLSearchParams(query).keys()].sort().join('&')
        if (!variants.has(shape) && !/page=/.test(query)) variants.set(shape, query)
      }
      for (const query of variants.values()) {
        const variant = await browsers[who].get(`${page}${query}`)
        if (variant.status === 200) found.push(...formsOf(variant.text, `${page}${query}`, who))
      }
    }
  }
  const seen = new Set<string>()
  forms = found.filter((f) => {
    // Signing out takes no input worth fuzzing and would end the session the other forms need.
    if (f.action.startsWith('/logout')) return false
    const key = `${f.who} ${f.method} ${f.action.split('?')[0]} ${f.fields.map((x) => x.name).sort().join(',')} ${f.submitter?.name}=${f.submitter?.value}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}, 600_000)

afterAll(async () => {
  process.stdout.write(`fuzz: ${stats.requests} requests, ${stats.serverErrors} server errors (seed ${SEED}, ${RUNS} runs per property, ${forms?.length ?? 0} forms, ${routes?.length ?? 0} routes)\n`)
  await web?.close()
})

function report() {
  return [...failures.values()].slice(0, 40).join('\n')
}

describe('fuzzing every form and endpoint with bad input', () => {
  it('finds the forms of every role', () => {
    const actions = new Set(forms.filter((f) => f.method === 'POST').map((f) => `${f.who} ${f.action.split('?')[0]}`))
    expect(actions.size).toBeGreaterThan(20)
    for (const expected of ['admin /admin/plans', 'admin /admin/agents/new', 'agent /agent/users/new', 'customer /customer/buy', 'anonymous /login', 'anonymous /register', 'agent /agent/api-tokens']) {
      expect([...actions]).toContain(expected)
    }
    // Every route with an action is reached by a rendered form, or is an API/resource route fuzzed below.
    const reached = new Set(forms.map((f) => f.action.split('?')[0]))
    const missing = routes
      .filter((r) => r.hasAction && !r.url.startsWith('/api/') && r.file.endsWith('.tsx'))
      .filter((r) => !reached.has(r.url) && !['/logout', '/two-factor', '/zarinpal/callback', '/agent/users/1/delete', `/agent/users/${seeded.accountId}/delete`, '/agent/wallet', '/customer/payments'].includes(r.url))
    expect(missing.map((r) => r.file)).toEqual([])
  })

  it('forms: bad values in every field answer without a server error and change nothing', async () => {
    failures.clear()
    const posts = forms.filter((f) => f.method === 'POST')
    const gets = forms.filter((f) => f.method === 'GET')
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...posts, ...gets),
        fc.infiniteStream(fc.tuple(badText, badNumber)),
        fc.boolean(),
        fc.boolean(),
        async (target, values, keepSubmitter, asMultipart) => {
          const generated: Record<string, string> = {}
          const iterator = values[Symbol.iterator]()
          for (const field of target.fields) {
            if (field.name === '_csrf') continue
            const [text, number] = iterator.next().value!
            generated[field.name] = field.numeric ? number : text
          }
          if (target.submitter) generated[target.submitter.name] = keepSubmitter && Object.keys(generated).length > 0 ? target.submitter.value : iterator.next().value![0]
          const browser = browsers[target.who]
          if (target.method === 'GET') {
            const path = `${target.action.split('?')[0]}?${new URLSearchParams(generated)}`
            await expectRefused('get-form', { who: target.who, method: 'GET', path, describe: JSON.stringify(generated) })
            return
          }
          const csrf = await browser.ensureCsrf()
          const multipart = target.multipart || asMultipart
          await expectRefused('form', {
            who: target.who,
            method: 'POST',
            path: target.action,
            body: multipart ? multipartBody(generated, csrf) : fieldsBody(target, generated, csrf),
            headers: multipart ? undefined : { 'Content-Type': 'application/x-www-form-urlencoded' },
            describe: `${target.page}: ${JSON.stringify(generated)}`,
          })
        },
      ),
      { seed: SEED, numRuns: RUNS * 4, endOnFailure: true },
    )
    expect(failures.size, report()).toBe(0)
  }, TIMEOUT)

  it('forms: bodies of the wrong Content-Type are refused with a 4xx, never a server error', async () => {
    failures.clear()
    const posts = forms.filter((f) => f.method === 'POST')
    const kinds = ['json', 'text', 'none', 'broken-multipart', 'bad-escapes', 'octets'] as const
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...posts), fc.constantFrom(...kinds), async (target, kind) => {
        const csrf = await browsers[target.who].ensureCsrf()
        const fields = Object.fromEntries([['_csrf', csrf], ...target.fields.map((f) => [f.name, f.value]), ...(target.submitter ? [[target.submitter.name, target.submitter.value]] : [])])
        const bodies: Record<(typeof kinds)[number], { body: BodyInit; headers: Record<string, string> }> = {
          json: { body: JSON.stringify(fields), headers: { 'Content-Type': 'application/json' } },
          text: { body: new URLSearchParams(fields).toString(), headers: { 'Content-Type': 'text/plain' } },
          none: { body: new Blob([new URLSearchParams(fields).toString()]), headers: {} },
          'broken-multipart': { body: `--x\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n--x`, headers: { 'Content-Type': 'multipart/form-data' } },
          'bad-escapes': { body: `_csrf=${csrf}&${target.fields.map((f) => `${f.name}=%E0%A4%A&x%ZZ=%`).join('&')}`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
          octets: { body: new Uint8Array([0, 255, 1, 2]), headers: { 'Content-Type': 'application/octet-stream' } },
        }
        const sent = { who: target.who, method: 'POST', path: target.action, ...bodies[kind], describe: kind }
        const response = await expectRefused('content-type', sent)
        if (kind !== 'bad-escapes' && response.status < 400) record('content-type', sent, `accepted with ${response.status}`)
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    )
    expect(failures.size, report()).toBe(0)
  }, TIMEOUT)

  it('paths: bad ids and malformed escapes in every route with a parameter answer 4xx, never a server error', async () => {
    failures.clear()
    const withParams = routes.filter((r) => r.params.length > 0 && !r.url.startsWith('/api/'))
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...withParams), badPathSegment, fc.boolean(), async (route, segment, post) => {
        const who = whoFor(route.url)
        let path = route.template
        for (const p of route.params) path = path.replace(`{${p}}`, p === 'kind' ? 'order' : segment)
        const method = post && route.hasAction ? 'POST' : 'GET'
        const csrf = method === 'POST' ? await browsers[who].ensureCsrf() : undefined
        const body = method === 'POST' ? new URLSearchParams({ _csrf: csrf!, intent: 'renew', reason: 'x', confirm: 'yes' }) : undefined
        await expectRefused('path', { who, method, path, body, headers: body ? { 'Content-Type': 'application/x-www-form-urlencoded' } : undefined, describe: route.file })
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    )
    expect(failures.size, report()).toBe(0)
  }, TIMEOUT)

  it('queries: bad values in every query parameter a page reads answer without a server error and change nothing', async () => {
    failures.clear()
    // The names the loaders read (grep searchParams.get in web/app/routes), each with a bad value.
    const names = ['q', 'status', 'page', 'method', 'account', 'edit', 'new', 'tab', 'agent', 'panel', 'from', 'to', 'actor', 'action', 'target', 'type', 'id', 'kind', 'locale', 'notice', 'gateway', 'Authority', 'Status', 'redirectTo']
    const pages = routes.filter((r) => !r.url.startsWith('/api/') && !r.url.startsWith('/logout'))
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...pages), fc.subarray(names, { minLength: 1, maxLength: 6 }), fc.infiniteStream(fc.oneof(badText, badNumber)), async (route, chosen, values) => {
        const iterator = values[Symbol.iterator]()
        const query = chosen.map((name) => `${name}=${enc(iterator.next().value!).slice(0, 3000)}`).join('&')
        await expectRefused('query', { who: whoFor(route.url), method: 'GET', path: `${route.url}?${query}`, describe: route.file })
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    )
    expect(failures.size, report()).toBe(0)
  }, TIMEOUT)

  it('the reseller API: bad ids, bodies, headers and escapes always answer its JSON error shape, never a server error', async () => {
    failures.clear()
    const endpoints: { method: string; path: string; body?: Record<string, 'text' | 'number'>; idempotent?: boolean }[] = [
      { method: 'GET', path: '/api/v1/plans' },
      { method: 'GET', path: '/api/v1/accounts?status={text}&q={text}&page={number}' },
      { method: 'GET', path: '/api/v1/accounts/{id}' },
      { method: 'DELETE', path: '/api/v1/accounts/{id}', body: { reason: 'text' } },
      { method: 'GET', path: '/api/v1/accounts/{id}/refund-quote' },
      { method: 'POST', path: '/api/v1/accounts/{id}/renew', body: { planId: 'number' }, idempotent: true },
      { method: 'GET', path: '/api/v1/orders?page={number}' },
      { method: 'POST', path: '/api/v1/orders', body: { planId: 'number', locationId: 'number', label: 'text', note: 'text' }, idempotent: true },
      { method: 'GET', path: '/api/v1/orders/{id}' },
      { method: 'GET', path: '/api/v1/{segment}' },
      { method: 'PUT', path: '/api/v1/orders/{id}' },
    ]
    const rawValue = fc.oneof(
      badJsonText,
      badNumber,
      badNumber.map(Number),
      fc.constantFrom(null, true, [], {}, 1.5, -1, 2147483648, 1e308, Number.MAX_SAFE_INTEGER + 2),
    )
    const bodyKinds = fc.constantFrom('json', 'json', 'json', 'not-json', 'not-object', 'text-plain', 'none')
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), badPathSegment, badJsonText, badNumber, fc.dictionary(fc.constantFrom('planId', 'locationId', 'label', 'note', 'reason', 'extra'), rawValue), bodyKinds, fc.boolean(), async (endpoint, segment, text, number, fields, bodyKind, realId) => {
        const id = realId ? String(seeded.accountId) : segment
        const path = endpoint.path
          .replace('{id}', id)
          .replace('{segment}', segment)
          .replace(/\{text\}/g, enc(text).slice(0, 3000))
          .replace('{number}', enc(number).slice(0, 3000))
        const headers: Record<string, string> = { Authorization: `Bearer ${apiTokens[Math.floor(n++ / 100) % apiTokens.length]}` }
        if (endpoint.idempotent) headers['Idempotency-Key'] = `fuzz-${n}-${SEED}`
        let body: string | undefined
        if (endpoint.body) {
          // Every body has at least one field no endpoint accepts.
          const json = { ...fields, [Object.keys(endpoint.body)[0]!]: endpoint.body[Object.keys(endpoint.body)[0]!] === 'text' ? text : number }
          if (bodyKind === 'json') {
            body = JSON.stringify(json)
            headers['Content-Type'] = 'application/json'
          } else if (bodyKind === 'not-json') {
            body = '{"planId": 1,'
            headers['Content-Type'] = 'application/json'
          } else if (bodyKind === 'not-object') {
            body = JSON.stringify([json])
            headers['Content-Type'] = 'application/json'
          } else if (bodyKind === 'text-plain') {
            body = JSON.stringify(json)
            headers['Content-Type'] = 'text/plain'
          } else body = JSON.stringify(json)
        }
        const sent: Sent = { who: 'anonymous', method: endpoint.method, path, headers, body, describe: `${bodyKind} ${body?.slice(0, 200) ?? ''}` }
        const response = await expectRefused('api', sent)
        let json: unknown
        try {
          json = JSON.parse(response.text)
        } catch {
          record('api', sent, `answered ${response.status} with ${response.headers.get('content-type')}: ${response.text.slice(0, 100)}`)
          return
        }
        const error = (json as { error?: { code?: unknown; message?: unknown } }).error
        if (response.status >= 400 && (typeof error?.code !== 'string' || typeof error.message !== 'string')) record('api', sent, `error without the JSON error shape: ${response.text.slice(0, 100)}`)
        if (endpoint.method !== 'GET' && response.status < 400) record('api', sent, `accepted with ${response.status}`)
      }),
      { seed: SEED, numRuns: RUNS * 2, endOnFailure: true },
    )
    expect(failures.size, report()).toBe(0)
  }, TIMEOUT)
})
