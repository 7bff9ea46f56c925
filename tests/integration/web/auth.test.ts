import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { currentTotpCode, generateTotpSecret, TOTP_PURPOSE } from '../../../web/app/utils/totp.server.ts'
import { seal } from '#db/crypto.ts'
import { hashSessionId } from '#db/sessions.ts'
import { hashPassword, verifyPassword } from '#db/users.ts'
import { makeUser, PASSWORD, signedIn, startTestWeb, TestBrowser, type TestWeb } from './harness.ts'

let web: TestWeb
beforeAll(async () => {
  web = await startTestWeb({ label: 'web_auth' })
})
afterAll(async () => {
  await web?.close()
})

const english = (browser: TestBrowser) => browser.cookies.set('fp_prefs', 'en.dark')

describe('sign-in', () => {
  it('renders the sign-in page in Persian, right to left, with a CSRF cookie', async () => {
    const browser = new TestBrowser(web.url)
    const page = await browser.get('/login')
    expect(page.status).toBe(200)
    expect(page.text).toContain('<html lang="fa" dir="rtl" data-theme="dark">')
    expect(page.text).toContain('ورود')
    expect(page.headers.getSetCookie().join('\n')).toMatch(/fp_csrf=[^;]+; Path=\/; SameSite=Lax; HttpOnly/)
  })

  it('signs in with the right password and stores only a hash of the session id', async () => {
    const admin = await makeUser(web.db, 'admin')
    const browser = new TestBrowser(web.url)
    const response = await browser.login(admin.username, PASSWORD)
    expect(response.status).toBe(302)
    expect(response.location).toBe('/admin')
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('fp_session='))!
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Lax/)
    expect(cookie).not.toMatch(/Secure/)
    const sessionId = browser.cookies.get('fp_session')!
    const rows = await web.db('sessions').where({ userId: admin.id })
    expect(rows).toHaveLength(1)
    expect(rows[0].id).toBe(hashSessionId(sessionId))
    expect(rows[0].id).not.toBe(sessionId)
    expect((await browser.get('/admin')).status).toBe(200)
    const audit = await web.db('auditLog').where({ action: 'auth.login', actorUserId: admin.id })
    expect(audit).toHaveLength(1)
    expect(audit[0].ip).toBe(browser.ip)
  })

  it('refuses a wrong password with one message for both wrong fields and starts no session', async () => {
    const agent = await makeUser(web.db, 'agent')
    const browser = new TestBrowser(web.url)
    english(browser)
    const wrongPassword = await browser.login(agent.username, 'not the password')
    const noSuchUser = await browser.login('nobody_here', PASSWORD)
    for (const response of [wrongPassword, noSuchUser]) {
      expect(response.status).toBe(400)
      expect(response.text).toContain('Wrong username or password.')
    }
    expect(browser.cookies.has('fp_session')).toBe(false)
    expect(await web.db('sessions').where({ userId: agent.id })).toHaveLength(0)
  })

  it('locks a username on one address after 5 failures, even with the right password, and says when to try again', async () => {
    const customer = await makeUser(web.db, 'customer')
    const attacker = new TestBrowser(web.url)
    english(attacker)
    for (let i = 0; i < 5; i++) expect((await attacker.login(customer.username, `guess-${i}`)).status).toBe(400)
    const blocked = await attacker.login(customer.username, PASSWORD)
    expect(blocked.status).toBe(429)
    const seconds = Number(blocked.headers.get('retry-after'))
    expect(seconds).toBeGreaterThan(800)
    expect(seconds).toBeLessThanOrEqual(900)
    expect(blocked.text).toMatch(/Too many sign-in attempts\. Try again in [\d,]+ s\./)
    expect(attacker.cookies.has('fp_session')).toBe(false)
    // The same address may still sign in to another account.
    const other = await makeUser(web.db, 'customer')
    expect((await attacker.login(other.username, PASSWORD)).status).toBe(302)
  })

  it('does not lock the owner out from another address after 5 wrong passwords elsewhere', async () => {
    const customer = await makeUser(web.db, 'customer')
    const attacker = new TestBrowser(web.url)
    for (let i = 0; i < 6; i++) await attacker.login(customer.username, `guess-${i}`)
    const owner = new TestBrowser(web.url)
    const response = await owner.login(customer.username, PASSWORD)
    expect(response.status).toBe(302)
    expect(owner.cookies.has('fp_session')).toBe(true)
  })

  it('locks a username everywhere, for up to an hour, after 50 failures spread over many addresses', async () => {
    const customer = await makeUser(web.db, 'customer')
    for (let i = 0; i < 50; i++) expect((await new TestBrowser(web.url).login(customer.username, `spread-${i}`)).status).toBe(400)
    const owner = new TestBrowser(web.url)
    const blocked = await owner.login(customer.username, PASSWORD)
    expect(blocked.status).toBe(429)
    const seconds = Number(blocked.headers.get('retry-after'))
    expect(seconds).toBeGreaterThan(3500)
    expect(seconds).toBeLessThanOrEqual(3600)
  })

  it('locks an address after 20 failures across usernames', async () => {
    const victim = await makeUser(web.db, 'customer')
    const sprayer = new TestBrowser(web.url)
    for (let i = 0; i < 20; i++) expect((await sprayer.login(`spray_${i}`, 'password1')).status).toBe(400)
    const blocked = await sprayer.login(victim.username, PASSWORD)
    expect(blocked.status).toBe(429)
    // The same account from another address is unaffected.
    expect((await new TestBrowser(web.url).login(victim.username, PASSWORD)).status).toBe(302)
  })

  it('does not sign in a disabled user and signs out their open sessions', async () => {
    const { browser, user } = await signedIn(web, 'agent')
    await web.db('users').where({ id: user.id }).update({ status: 'disabled' })
    const page = await browser.get('/settings')
    expect(page.status).toBe(302)
    expect(page.location).toMatch(/^\/login/)
    const again = new TestBrowser(web.url)
    english(again)
    const refused = await again.login(user.username, PASSWORD)
    expect(refused.status).toBe(403)
    expect(refused.text).toContain('This account is disabled')
  })
})

describe('cross-site protection', () => {
  it('refuses a post without the CSRF token', async () => {
    const user = await makeUser(web.db, 'customer')
    const browser = new TestBrowser(web.url)
    await browser.get('/login')
    const response = await browser.post('/login', { username: user.username, password: PASSWORD }, { csrf: false })
    expect(response.status).toBe(403)
    expect(browser.cookies.has('fp_session')).toBe(false)
  })

  it('refuses a token that belongs to another browser', async () => {
    const user = await makeUser(web.db, 'customer')
    const other = new TestBrowser(web.url)
    await other.get('/login')
    const browser = new TestBrowser(web.url)
    await browser.get('/login')
    browser.csrfToken = other.csrfToken
    expect((await browser.post('/login', { username: user.username, password: PASSWORD })).status).toBe(403)
  })

  it('refuses a post whose Origin is another site, even with a valid token', async () => {
    const user = await makeUser(web.db, 'customer')
    const browser = new TestBrowser(web.url)
    const response = await browser.post('/login', { username: user.username, password: PASSWORD }, { headers: { Origin: 'https://evil.example' } })
    expect(response.status).toBe(403)
    expect(response.text).toContain('Cross-site request refused')
  })
})

describe('sign-out', () => {
  it('ends this session and clears the cookie', async () => {
    const { browser, user } = await signedIn(web, 'customer')
    const response = await browser.post('/logout')
    expect(response.status).toBe(302)
    expect(browser.cookies.has('fp_session')).toBe(false)
    expect(await web.db('sessions').where({ userId: user.id })).toHaveLength(0)
    expect((await browser.get('/settings')).location).toBe('/login?redirectTo=%2Fsettings')
  })

  it('signs out every device with intent=everywhere', async () => {
    const { browser: laptop, user } = await signedIn(web, 'agent')
    const phone = new TestBrowser(web.url)
    await phone.login(user.username, PASSWORD)
    expect((await phone.get('/settings')).status).toBe(200)
    expect((await laptop.post('/logout', { intent: 'everywhere' })).status).toBe(302)
    expect((await phone.get('/settings')).status).toBe(302)
    expect(await web.db('sessions').where({ userId: user.id })).toHaveLength(0)
    expect(await web.db('auditLog').where({ action: 'auth.logout_everywhere', actorUserId: user.id })).toHaveLength(1)
  })
})

describe('registration', () => {
  it('creates a customer with a wallet and signs them in', async () => {
    const browser = new TestBrowser(web.url)
    const response = await browser.post('/register', { username: 'new_customer', displayName: 'Sara', password: 'long enough pw', confirmPassword: 'long enough pw' })
    expect(response.status).toBe(302)
    expect(response.location).toBe('/customer')
    const user = await web.db('users').where({ username: 'new_customer' }).first()
    expect(user.role).toBe('customer')
    expect(await web.db('wallets').where({ userId: user.id })).toHaveLength(1)
    expect((await browser.get('/settings')).text).toContain('<bdi>Sara</bdi>')
  })

  it('answers bad input with field errors and creates nothing', async () => {
    await makeUser(web.db, 'customer', 'taken_name')
    const before = await web.db('users').count<{ count: string }[]>('* as count').first()
    const browser = new TestBrowser(web.url)
    english(browser)
    const taken = await browser.post('/register', { username: 'Taken_Name', password: 'long enough pw', confirmPassword: 'long enough pw' })
    expect(taken.status).toBe(400)
    expect(taken.text).toContain('This username is already taken.')
    const bad = await browser.post('/register', { username: 'a b', password: 'short', confirmPassword: 'other' })
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('Use 3–32 letters, digits, dot, dash or underscore.')
    expect(bad.text).toContain('At least 10 characters.')
    const mismatch = await browser.post('/register', { username: 'fine_name', password: 'long enough pw', confirmPassword: 'different pw' })
    expect(mismatch.text).toContain('The two passwords differ.')
    const after = await web.db('users').count<{ count: string }[]>('* as count').first()
    expect(after!.count).toBe(before!.count)
  })
})

describe('registration does not tell which usernames exist beyond what sign-up needs', () => {
  it('counts every "username taken" answer against the address, so names cannot be probed without end', async () => {
    const taken = await Promise.all(Array.from({ length: 11 }, (_, i) => makeUser(web.db, i % 2 ? 'admin' : 'agent')))
    const prober = new TestBrowser(web.url)
    english(prober)
    for (const user of taken.slice(0, 10)) {
      const response = await prober.post('/register', { username: user.username, password: 'long enough pw', confirmPassword: 'long enough pw' })
      expect(response.status).toBe(400)
      expect(response.text).toContain('This username is already taken.')
    }
    const blocked = await prober.post('/register', { username: taken[10]!.username, password: 'long enough pw', confirmPassword: 'long enough pw' })
    expect(blocked.status).toBe(429)
    expect(blocked.text).not.toContain('This username is already taken.')
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(3000)
    // An invalid form is answered with its field errors alone, never with whether the name exists.
    const invalid = await new TestBrowser(web.url).post('/register', { username: taken[0]!.username, password: 'short', confirmPassword: 'short' })
    expect(invalid.status).toBe(400)
    expect(invalid.text).not.toMatch(/already taken|قبلاً گرفته/)
    // Someone else signs up as usual.
    const other = await new TestBrowser(web.url).post('/register', { username: `fresh_${Date.now().toString(36)}`, password: 'long enough pw', confirmPassword: 'long enough pw' })
    expect(other.status).toBe(302)
  })
})

describe('passwords', () => {
  /** The field error of a rendered form. */
  const fieldError = (html: string, field: string) => new RegExp(`id="f-${field}-error"[^>]*>([^<]*)<`).exec(html)?.[1]

  it('refuses at sign-up a password under 10 characters or on the common-password list, and creates nothing', async () => {
    const browser = new TestBrowser(web.url)
    english(browser)
    for (const [password, message] of [
      ['ninechars', 'At least 10 characters.'],
      ['1234567890', 'This password is on a list of common passwords. Choose another.'],
      ['Password123', 'This password is on a list of common passwords. Choose another.'],
    ] as const) {
      const username = `pw_${Math.random().toString(36).slice(2, 8)}`
      const response = await browser.post('/register', { username, password, confirmPassword: password })
      expect(response.status, password).toBe(400)
      expect(fieldError(response.text, 'password'), password).toBe(message)
      expect(await web.db('users').where({ username }).first()).toBeUndefined()
    }
    const persian = new TestBrowser(web.url)
    const fa = await persian.post('/register', { username: 'pw_persian', password: 'qwertyuiop', confirmPassword: 'qwertyuiop' })
    expect(fieldError(fa.text, 'password')).toBe('این رمز عبور در فهرست رمزهای رایج است. رمز دیگری انتخاب کنید.')
  })

  it('refuses the same passwords when changing one, and keeps the old password', async () => {
    const { browser, user } = await signedIn(web, 'agent')
    english(browser)
    for (const newPassword of ['ninechars', 'qwertyuiop']) {
      const response = await browser.post('/settings', { intent: 'change-password', currentPassword: PASSWORD, newPassword, confirmPassword: newPassword })
      expect(response.status, newPassword).toBe(400)
      expect(fieldError(response.text, 'newPassword'), newPassword).toBeTruthy()
    }
    expect((await new TestBrowser(web.url).login(user.username, PASSWORD)).status).toBe(302)
  })

  it('still signs in an account whose short password was set before the rule', async () => {
    const [user] = await web.db('users').insert({ username: `old_${Math.random().toString(36).slice(2, 8)}`, passwordHash: await hashPassword('eight-ch'), role: 'customer' }).returning(['id', 'username'])
    await web.db('wallets').insert({ userId: user.id })
    const response = await new TestBrowser(web.url).login(user.username, 'eight-ch')
    expect(response.status).toBe(302)
    expect(response.location).toBe('/customer')
  })
})

describe('two-step verification', () => {
  it('lets an admin turn it on, then asks for the code at sign-in', async () => {
    const { browser, user } = await signedIn(web, 'admin')
    expect((await browser.post('/settings', { intent: 'start-2fa' })).status).toBe(302)
    const settings = await browser.get('/settings')
    const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(settings.text)?.[1]
    expect(secret).toBeTruthy()
    const stored = await web.db('users').where({ id: user.id }).first()
    expect(stored.totpSecretEncrypted).toMatch(/^v1:/)
    expect(stored.totpSecretEncrypted).not.toContain(secret)

    expect((await browser.post('/settings', { intent: 'enable-2fa', code: '000000' })).status).toBe(400)
    const enabled = await browser.post('/settings', { intent: 'enable-2fa', code: currentTotpCode(secret!) })
    expect(enabled.status).toBe(302)
    expect(enabled.location).toBe('/settings?notice=twoFactorEnabled')
    expect((await web.db('users').where({ id: user.id }).first()).totpEnabled).toBe(true)
    expect((await browser.get('/admin')).status).toBe(200)

    const next = new TestBrowser(web.url)
    const login = await next.login(user.username, PASSWORD)
    expect(login.location).toBe('/two-factor?redirectTo=%2Fadmin')
    expect((await next.get('/admin')).location).toBe('/two-factor?redirectTo=%2Fadmin')
    expect((await next.post('/two-factor', { code: '123456', redirectTo: '/admin' })).status).toBe(400)
    // The code of the next time step: the current one was spent turning two-step on, and codes are single-use.
    const passed = await next.post('/two-factor', { code: currentTotpCode(secret!, Date.now() + 30_000), redirectTo: '/admin' })
    expect(passed.status).toBe(302)
    expect(passed.location).toBe('/admin')
    expect((await next.get('/admin')).status).toBe(200)
    // The same code cannot be used twice.
    const third = new TestBrowser(web.url)
    await third.login(user.username, PASSWORD)
    expect((await third.post('/two-factor', { code: currentTotpCode(secret!, Date.now() + 30_000) })).status).toBe(400)
  })

  it('lets a session that still owes its code sign out only itself, not every device', async () => {
    const { browser: laptop, user } = await signedIn(web, 'agent')
    const secret = generateTotpSecret()
    await web.db('users').where({ id: user.id }).update({ totpSecretEncrypted: seal(web.env.APP_SECRET, TOTP_PURPOSE, secret), totpEnabled: true })
    // The laptop's session was made before two-step was on; a new one that passed its code stands for the owner.
    const owner = new TestBrowser(web.url)
    await owner.login(user.username, PASSWORD)
    expect((await owner.post('/two-factor', { code: currentTotpCode(secret) })).status).toBe(302)
    expect((await owner.get('/settings')).status).toBe(200)

    const intruder = new TestBrowser(web.url)
    expect((await intruder.login(user.username, PASSWORD)).location).toMatch(/^\/two-factor/)
    const out = await intruder.post('/logout', { intent: 'everywhere' })
    expect(out.status).toBe(302)
    expect(out.location).toBe('/login')
    expect(intruder.cookies.has('fp_session')).toBe(false)
    expect((await owner.get('/settings')).status, 'the owner is still signed in').toBe(200)
    expect((await laptop.get('/settings')).status, 'the laptop is still signed in').toBe(200)
    expect(await web.db('auditLog').where({ action: 'auth.logout_everywhere', actorUserId: user.id })).toHaveLength(0)
    // Two sessions left: the laptop's and the owner's; the intruder's own one ended.
    expect(await web.db('sessions').where({ userId: user.id })).toHaveLength(2)
  })

  it('blocks wrong codes per address, so guesses from one place never lock the owner out of another', async () => {
    const { user } = await signedIn(web, 'agent')
    const secret = generateTotpSecret()
    await web.db('users').where({ id: user.id }).update({ totpSecretEncrypted: seal(web.env.APP_SECRET, TOTP_PURPOSE, secret), totpEnabled: true })
    const intruder = new TestBrowser(web.url)
    await intruder.login(user.username, PASSWORD)
    for (let i = 0; i < 5; i++) expect((await intruder.post('/two-factor', { code: '000000' })).status).toBe(400)
    expect((await intruder.post('/two-factor', { code: currentTotpCode(secret) })).status).toBe(429)
    const owner = new TestBrowser(web.url)
    await owner.login(user.username, PASSWORD)
    const passed = await owner.post('/two-factor', { code: currentTotpCode(secret, Date.now() + 30_000) })
    expect(passed.status).toBe(302)
    expect(passed.location).toBe('/agent')
  })

  it('limits guesses of the current password and of codes on the settings page', async () => {
    const { browser, user } = await signedIn(web, 'agent')
    await web.db('users').where({ id: user.id }).update({ locale: 'en' })
    const change = (currentPassword: string) =>
      browser.post('/settings', { intent: 'change-password', currentPassword, newPassword: 'another long password', confirmPassword: 'another long password' })
    for (let i = 0; i < 5; i++) expect((await change(`wrong-${i}`)).status).toBe(400)
    const blocked = await change(PASSWORD)
    expect(blocked.status).toBe(429)
    expect(blocked.text).toMatch(/Too many sign-in attempts\. Try again in [\d,]+ s\./)
    expect(await verifyPassword((await web.db('users').where({ id: user.id }).first()).passwordHash, PASSWORD)).toBe(true)

    expect((await browser.post('/settings', { intent: 'start-2fa' })).status).toBe(302)
    const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec((await browser.get('/settings')).text)![1]!
    for (let i = 0; i < 5; i++) expect((await browser.post('/settings', { intent: 'enable-2fa', code: '000000' })).status).toBe(400)
    expect((await browser.post('/settings', { intent: 'enable-2fa', code: currentTotpCode(secret) })).status).toBe(429)
    expect((await web.db('users').where({ id: user.id }).first()).totpEnabled).toBe(false)
  })

  it('is not offered to customers', async () => {
    const { browser } = await signedIn(web, 'customer')
    expect((await browser.post('/settings', { intent: 'start-2fa' })).status).toBe(403)
  })
})

describe('preferences', () => {
  it('switches language and theme and keeps them on the user', async () => {
    const { browser, user } = await signedIn(web, 'agent')
    await browser.post('/preferences', { locale: 'en', redirectTo: '/settings' })
    await browser.post('/preferences', { theme: 'light', redirectTo: '/settings' })
    const page = await browser.get('/settings')
    expect(page.text).toContain('<html lang="en" dir="ltr" data-theme="light">')
    const row = await web.db('users').where({ id: user.id }).first()
    expect([row.locale, row.theme]).toEqual(['en', 'light'])
  })

  it('never redirects to another site', async () => {
    const browser = new TestBrowser(web.url)
    const response = await browser.post('/preferences', { locale: 'en', redirectTo: '//evil.example/x' })
    expect(response.location).toBe('/')
  })
})

describe('cookies over https', () => {
  it('are Secure when PUBLIC_URL is https', async () => {
    const secureWeb = await startTestWeb({ label: 'web_auth_https', env: { PUBLIC_URL: 'https://panel.example.com' } })
    try {
      const user = await makeUser(secureWeb.db, 'customer')
      const browser = new TestBrowser(secureWeb.url)
      const response = await browser.login(user.username, PASSWORD)
      for (const cookie of response.headers.getSetCookie()) expect(cookie).toMatch(/; Secure/)
    } finally {
      await secureWeb.close()
    }
  })
})
