import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { seal } from '#db/crypto.ts'
import { currentTotpCode, generateTotpSecret, TOTP_PURPOSE } from '../../../web/app/utils/totp.server.ts'
import { makeUser, PASSWORD, startTestWeb, TestBrowser, type TestWeb } from './harness.ts'

/** Every redirect whose target comes from the request: after sign-in, after the two-step code, after a preference. */
let web: TestWeb
beforeAll(async () => {
  web = await startTestWeb({ label: 'redirects' })
})
afterAll(async () => {
  await web?.close()
})

/** Bypass forms of a same-site check, as they arrive in a form field (the query string already decoded once). */
const BYPASSES = [
  '//evil.host/path',
  '/\\evil.host/path',
  '\\\\evil.host',
  '/\t/evil.host/path',
  '/\r\n/evil.host/path',
  '/\n/evil.host',
  ' //evil.host',
  '/%09/evil.host/path',
  '/%0D%0A/evil.host',
  '/%2F/evil.host',
  '/%5Cevil.host',
  '/.//evil.host',
  'https://evil.host/',
  'javascript:alert(1)',
  'java\nscript:alert(1)',
]

/** Where a browser would go with this Location, resolved against the site's own address. */
const landsOn = (location: string | null) => new URL(location ?? '', web.url)

describe('redirect targets taken from the request', () => {
  test('the sign-in page keeps a redirectTo with CR/LF or a tab in it as a form field, without an error', async () => {
    const browser = new TestBrowser(web.url)
    for (const query of ['/%09/evil.host/path', '/%0d%0a/evil.host', '%E0%A4%A']) {
      const page = await browser.get(`/login?redirectTo=${query}`)
      expect(page.status, query).toBe(200)
      expect(page.text).toContain('name="redirectTo"')
    }
  })

  test.each(BYPASSES)('after sign-in, %j lands on this site', async (redirectTo) => {
    const user = await makeUser(web.db, 'customer')
    const browser = new TestBrowser(web.url)
    const response = await browser.post('/login', { username: user.username, password: PASSWORD, redirectTo })
    expect(response.status).toBe(302)
    expect(response.location).toBe('/customer')
    expect(landsOn(response.location).origin).toBe(new URL(web.url).origin)
  })

  test('after sign-in, a path of this site is kept', async () => {
    const user = await makeUser(web.db, 'customer')
    const response = await new TestBrowser(web.url).post('/login', { username: user.username, password: PASSWORD, redirectTo: '/customer/orders?page=2' })
    expect(response.location).toBe('/customer/orders?page=2')
  })

  test('after the two-step code, a foreign target falls back to the home page', async () => {
    const user = await makeUser(web.db, 'admin')
    const secret = generateTotpSecret()
    await web.db('users').where({ id: user.id }).update({ totpSecretEncrypted: seal(web.env.APP_SECRET, TOTP_PURPOSE, secret), totpEnabled: true })
    // Codes are single-use per time step: each attempt uses another step of the accepted window.
    const steps = [-30_000, 0, 30_000]
    for (const [i, redirectTo] of ['/%09/evil.host/path', '/\r\n/evil.host', '//evil.host'].entries()) {
      const browser = new TestBrowser(web.url)
      const login = await browser.login(user.username, PASSWORD)
      expect(login.location).toBe('/two-factor?redirectTo=%2Fadmin')
      const response = await browser.post('/two-factor', { code: currentTotpCode(secret, Date.now() + steps[i]!), redirectTo })
      expect(response.status, redirectTo).toBe(302)
      expect(response.location).toBe('/admin')
    }
  })

  test('after a language switch, a foreign target falls back to the start page', async () => {
    const browser = new TestBrowser(web.url)
    for (const redirectTo of ['/%09/evil.host', '/\r\n/evil.host', '/\\evil.host', '/%2F/evil.host']) {
      const response = await browser.post('/preferences', { locale: 'en', redirectTo })
      expect(response.status, redirectTo).toBe(302)
      expect(response.location).toBe('/')
    }
    expect((await browser.post('/preferences', { locale: 'fa', redirectTo: '/register' })).location).toBe('/register')
  })
})
