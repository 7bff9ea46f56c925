import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { currentTotpCode } from '../../../web/app/utils/totp.server.ts'
import { verifyPassword } from '#db/users.ts'
import { makeUser, PASSWORD, signedIn, startTestWeb, TestBrowser, type TestWeb } from './harness.ts'

/**
 * An admin can require two-step verification for admins and for agents (/admin/security, stored in
 * security_settings). People of a required role without it are sent to set it up after signing in and can do
 * nothing else (not change their password, not sign out other devices) until they have.
 */
let web: TestWeb
let admin: TestBrowser
let adminId: number

beforeAll(async () => {
  web = await startTestWeb({ label: 'web_2fa_required' })
  const signed = await signedIn(web, 'admin')
  admin = signed.browser
  adminId = signed.user.id
  await admin.post('/preferences', { locale: 'en', redirectTo: '/admin' })
})
afterAll(async () => {
  await web?.close()
})

async function setRequirement(fields: Record<string, string>) {
  const response = await admin.post('/admin/security', { intent: 'save', ...fields })
  expect(response.status).toBe(302)
  return response
}

describe('requiring two-step verification', () => {
  it('is off by default and an admin turns it on for agents, which is stored and audited', async () => {
    const page = await admin.get('/admin/security')
    expect(page.status).toBe(200)
    expect(page.text).toContain('Require it for agents')
    expect(await web.db('securitySettings').first()).toMatchObject({ requireTwoFactorAdmin: false, requireTwoFactorAgent: false })
    await setRequirement({ requireAgents: 'on' })
    expect(await web.db('securitySettings').first()).toMatchObject({ requireTwoFactorAdmin: false, requireTwoFactorAgent: true, updatedByUserId: adminId })
    const audit = await web.db('auditLog').where({ action: 'security.require_two_factor' }).orderBy('id', 'desc').first()
    expect(audit).toMatchObject({ actorUserId: adminId, detail: { admin: false, agent: true } })
    expect((await admin.get('/admin/security?notice=saved')).text).toContain('Security settings saved.')
  })

  it('sends an agent without it to set it up, and lets them do nothing else until they have', async () => {
    await setRequirement({ requireAgents: 'on' })
    const agent = await makeUser(web.db, 'agent')
    const otherDevice = new TestBrowser(web.url)
    await otherDevice.login(agent.username, PASSWORD)
    await web.db('users').where({ id: agent.id }).update({ locale: 'en' })
    const browser = new TestBrowser(web.url)
    const login = await browser.login(agent.username, PASSWORD)
    expect(login.status).toBe(302)
    for (const path of ['/agent', '/agent/users', '/agent/wallet']) {
      const page = await browser.get(path)
      expect(page.status, path).toBe(302)
      expect(page.location, path).toBe('/settings?setup=two-factor')
    }
    const settings = await browser.get('/settings?setup=two-factor')
    expect(settings.status).toBe(200)
    expect(settings.text).toContain('Your account must use two-step verification. Set it up below to continue.')
    expect(settings.text).not.toContain('name="currentPassword"')

    // Nothing but the set-up: a password change is not made, other devices stay signed in.
    const change = await browser.post('/settings', { intent: 'change-password', currentPassword: PASSWORD, newPassword: 'a brand new password', confirmPassword: 'a brand new password' })
    expect(change.location).toBe('/settings?setup=two-factor')
    expect(await verifyPassword((await web.db('users').where({ id: agent.id }).first()).passwordHash, PASSWORD)).toBe(true)
    await browser.post('/logout', { intent: 'everywhere' })
    expect(await web.db('auditLog').where({ action: 'auth.logout_everywhere', actorUserId: agent.id })).toHaveLength(0)
    expect((await otherDevice.get('/settings')).status).toBe(200)

    // Set it up: then the console opens.
    const again = new TestBrowser(web.url)
    await again.login(agent.username, PASSWORD)
    expect((await again.post('/settings', { intent: 'start-2fa' })).status).toBe(302)
    const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec((await again.get('/settings')).text)?.[1]
    expect(secret).toBeTruthy()
    const enabled = await again.post('/settings', { intent: 'enable-2fa', code: currentTotpCode(secret!) })
    expect(enabled.location).toBe('/settings?notice=twoFactorEnabled')
    expect((await again.get('/agent')).status).toBe(200)

    // While it is required it cannot be turned off.
    const off = await again.post('/settings', { intent: 'disable-2fa', code: currentTotpCode(secret!, Date.now() + 30_000) })
    expect(off.status).toBe(400)
    expect((await web.db('users').where({ id: agent.id }).first()).totpEnabled).toBe(true)
  })

  it('says so in Persian', async () => {
    await setRequirement({ requireAgents: 'on' })
    const agent = await makeUser(web.db, 'agent')
    const browser = new TestBrowser(web.url)
    await browser.login(agent.username, PASSWORD)
    const settings = await browser.get('/settings?setup=two-factor')
    expect(settings.text).toContain('حساب شما باید تأیید دومرحله‌ای داشته باشد. برای ادامه، آن را در زیر راه‌اندازی کنید.')
  })

  it('leaves roles it is not required for, and customers, alone; turned off, agents get in again', async () => {
    await setRequirement({ requireAgents: 'on' })
    const { browser: otherAdmin } = await signedIn(web, 'admin')
    expect((await otherAdmin.get('/admin')).status).toBe(200)
    const { browser: customer } = await signedIn(web, 'customer')
    expect((await customer.get('/customer')).status).toBe(200)

    await setRequirement({ requireAdmins: 'on', requireAgents: 'on' })
    expect((await otherAdmin.get('/admin')).location).toBe('/settings?setup=two-factor')

    // The admin who saved this has no two-step either: sent to set it up, the setting can still be turned off again
    // by an admin who has it. Here it is switched off in the database, as another admin would.
    await web.db('securitySettings').update({ requireTwoFactorAdmin: false, requireTwoFactorAgent: false })
    const agent = await makeUser(web.db, 'agent')
    const browser = new TestBrowser(web.url)
    await browser.login(agent.username, PASSWORD)
    expect((await browser.get('/agent')).status).toBe(200)
    expect((await otherAdmin.get('/admin')).status).toBe(200)
  })
})
