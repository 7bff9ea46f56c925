import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { signedIn, startTestWeb, TestBrowser, type TestWeb } from './harness.ts'
import { count, seedLocation } from './seed.ts'

/**
 * Bad input answered as what it is, in the reader's language: a field error for text with control characters
 * or direction overrides, 404 for ids no row can have, 415 for a form sent as something else. The fuzz test
 * (fuzz.test.ts) checks the same across every form; these pin the answers.
 */
let web: TestWeb
beforeAll(async () => {
  web = await startTestWeb({ label: 'web_bad_input' })
})
afterAll(async () => {
  await web?.close()
})

describe('bad input', () => {
  it('a NUL in the sign-in username is a field error, not a server error', async () => {
    const browser = new TestBrowser(web.url)
    const response = await browser.login('admin\u0000', 'whatever')
    expect(response.status).toBe(400)
    expect(response.text).toContain('نویسه‌های کنترلی')
    browser.cookies.set('fp_prefs', 'en.dark')
    const english = await browser.post('/login', { username: 'a\u0007b', password: 'x' })
    expect(english.status).toBe(400)
    expect(english.text).toContain('Remove the control characters')
  })

  it('names refuse control and bidi override characters with a field error and store nothing', async () => {
    const { browser } = await signedIn(web, 'admin')
    await browser.get('/admin/locations')
    const before = await count(web.db, 'locations')
    for (const [nameEn, expected] of [
      ['Tehran\u202egpj', 'جهت متن'],
      ['Teh\u0000ran', 'نویسه‌های کنترلی'],
      ['Teh\nran', 'نویسه‌های کنترلی'],
    ] as const) {
      const response = await browser.post('/admin/locations?index', { intent: 'create', code: 'thr', nameFa: 'تهران', nameEn, active: 'on' })
      expect(response.status, JSON.stringify(nameEn)).toBe(400)
      expect(response.text).toContain(expected)
    }
    expect(await count(web.db, 'locations')).toBe(before)
    // Persian with the zero-width non-joiner is a name like any other.
    const fine = await browser.post('/admin/locations?index', { intent: 'create', code: 'ahz', nameFa: 'اهواز‌شرقی', nameEn: 'Ahvaz', active: 'on' })
    expect(fine.status).toBe(200)
    expect(await count(web.db, 'locations')).toBe(before + 1)
  })

  it('a number too long to be one is a field error in the reader\'s language, not zod\'s English', async () => {
    const { browser } = await signedIn(web, 'admin')
    await browser.get('/admin/plans')
    const response = await browser.post('/admin/plans?index', { intent: 'create', nameFa: 'ماهانه', nameEn: 'Monthly', days: '9'.repeat(400), dataGb: '10', price: '1000', agentPrice: '900', locationIds: [] })
    expect(response.status).toBe(400)
    expect(response.text).not.toContain('Expected')
    expect(response.text).toContain('معتبر نیست')
  })

  it('ids no row can have are 404, in paths and in form fields', async () => {
    const { browser } = await signedIn(web, 'admin')
    for (const id of ['2147483648', '1.5', '-1', '1e3', '99999999999999999999']) {
      expect((await browser.get(`/admin/agents/${id}`)).status, id).toBe(404)
      expect((await browser.get(`/admin/accounts/${id}`)).status, id).toBe(404)
    }
    await browser.get('/admin/workflows')
    const cancel = await browser.post('/admin/workflows', { intent: 'cancel', workflowId: 'order-2147483648' })
    expect(cancel.status).toBe(400)
    await browser.get('/admin/locations')
    const locationId = await seedLocation(web.db)
    const response = await browser.post('/admin/locations?index', { intent: 'update', id: '2147483648', code: 'x1', nameFa: 'ایکس', nameEn: 'X', active: 'on' })
    expect(response.status).toBe(404)
    expect((await browser.get('/admin/agents?page=1e308')).status).toBe(200)
    expect(await web.db('locations').where({ id: locationId }).first()).toBeDefined()
  })

  it('a form sent as JSON, text/plain or without a Content-Type gets 415 with a sentence, a broken multipart body 400', async () => {
    const { browser } = await signedIn(web, 'admin')
    const csrf = await browser.ensureCsrf()
    const fields = { _csrf: csrf, intent: 'create', code: 'js', nameFa: 'ج', nameEn: 'J' }
    const before = await count(web.db, 'locations')
    const json = await browser.request('POST', '/admin/locations?index', { body: JSON.stringify(fields), headers: { 'Content-Type': 'application/json' } })
    expect(json.status).toBe(415)
    expect(json.text).toContain('مرورگر فرم‌ها را می‌فرستد')
    const text = await browser.request('POST', '/admin/locations?index', { body: new URLSearchParams(fields).toString(), headers: { 'Content-Type': 'text/plain' } })
    expect(text.status).toBe(415)
    const none = await browser.request('POST', '/login', { body: new Blob(['username=a&password=b']) })
    expect(none.status).toBe(415)
    const broken = await browser.request('POST', '/admin/locations?index', { body: '--x\r\nbroken', headers: { 'Content-Type': 'multipart/form-data' } })
    expect(broken.status).toBe(400)
    expect(await count(web.db, 'locations')).toBe(before)
  })

  it('a search with a control character is a 400 that says so, not a database error', async () => {
    const { browser } = await signedIn(web, 'admin')
    const response = await browser.get('/admin/agents?q=%00')
    expect(response.status).toBe(400)
    expect(response.text).toContain('نویسه‌های کنترلی')
    expect((await browser.get('/admin/orders?q=a%1Bb&agent=2147483648')).status).toBe(400)
    expect((await browser.get('/admin/orders?agent=2147483648')).status).toBe(200)
    // Digits in the search box are also tried as an id, but only when they fit one.
    expect((await browser.get('/admin/orders?q=611621943185111868782589')).status).toBe(200)
    expect((await browser.get('/admin/orders?tab=accounts&q=2147483648')).status).toBe(200)
  })

  it('a page path with a malformed escape is a 404 page, without a server error logged', async () => {
    const { browser } = await signedIn(web, 'admin')
    const logged = vi.spyOn(console, 'error')
    try {
      for (const path of ['/admin/agents/%E0%A4%A', '/admin/accounts/%ZZ', '/customer/orders/%C0%80']) {
        expect((await browser.get(path)).status, path).toBeLessThan(500)
      }
      expect(logged.mock.calls.map((c) => String(c[0])).filter((m) => /URI malformed/.test(m))).toEqual([])
    } finally {
      logged.mockRestore()
    }
  })

  it('API paths with a malformed escape or an encoded line break answer the JSON error shape', async () => {
    for (const path of ['/api/v1/accounts/%E0%A4%A', '/api/v1/%0d%0a', '/api/v1/orders/%ZZ']) {
      const response = await fetch(`${web.url}${path}`)
      expect(response.headers.get('content-type'), path).toContain('application/json')
      expect(await response.json(), path).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } })
    }
  })
})
