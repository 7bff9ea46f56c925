import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adjustWallet } from '#db/payments.ts'
import { placeOrder } from '#db/orders.ts'
import { orderStatusQuery } from '#temporal/messages.ts'
import { startWebServer, type WebServer } from '../../web/server.ts'
import { buildWeb, removeWebBuild, launchChromium, signInPage } from '../integration/web-agent/browser.ts'
import { makeUser } from '../integration/web/harness.ts'
import { startHarness, waitFor, type Harness } from '../workflows/harness.ts'

/**
 * Ops in the Temporal Web UI, in a real browser: the fake Marzban refuses to create users, so an order is stuck
 * provisioning. The UI that the CLI dev server serves finds `order-<id>` by its workflow id and shows the failed
 * panel attempts, their failure, and the workflow's own attempt count (its status query); the admin ops page's
 * "Open in Temporal UI" link lands on the same run. The order workflow retries the panel call itself, one activity
 * per attempt, so the provisioning attempts show as failed activities in the history, not as one pending activity;
 * once the admin cancels, the panel clean-up is left to Temporal's retry policy and shows as a pending activity
 * with its attempt count and last failure. Screenshots go to test-artifacts/temporal-ui-*.png.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const ARTIFACTS = path.join(ROOT, 'test-artifacts')
const PANEL_STATUS = 503

let h: Harness
let server: WebServer
let redis: Redis
let browser: Browser
/** The Temporal UI, as a person opens it. */
let context: BrowserContext
let page: Page
/** flowpanel's own pages, signed in as an admin. */
let appContext: BrowserContext
let app: Page
let buildDir: string
let uiUrl: string
let orderId: number
let workflowId: string
let runId: string

async function shot(target: Page, name: string): Promise<void> {
  await target.screenshot({ path: path.join(ARTIFACTS, `temporal-ui-${name}.png`), fullPage: true })
}

/** The run's page in the UI, at one of its tabs. */
function runPage(tab: 'history' | 'query' | 'pending-activities'): string {
  return `${uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${runId}/${tab}`
}

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true })
  ;[buildDir, h] = await Promise.all([buildWeb(), startHarness('e2e_temporal_ui', { temporal: 'dev', temporalUi: true })])
  uiUrl = h.temporalUiUrl!
  redis = new Redis(h.redisUrl)
  // The app builds its links from TEMPORAL_UI_URL, as in production.
  server = await startWebServer({
    env: { ...h.appEnv, TEMPORAL_UI_URL: uiUrl },
    db: h.db,
    redis,
    temporal: h.client,
    port: 0,
    host: '127.0.0.1',
    mode: 'production',
    buildDir,
  })

  const customerId = await h.createCustomer('stuck_buyer')
  await adjustWallet(h.db, h.client, { userId: customerId, amount: '500000', note: 'e2e top-up', actorUserId: h.adminId })
  // The panel answers logins but refuses every user call, for longer than this file runs.
  h.marzban.failNext(10_000, PANEL_STATUS, '/api/user')
  const placed = await placeOrder(h.db, h.client, { userId: customerId, planId: h.planId, locationId: h.locationId })
  orderId = placed.order.id
  workflowId = placed.workflowId
  const handle = h.client.workflow.getHandle(workflowId)
  runId = (await handle.describe()).runId
  await waitFor('the first failed panel attempt', async () => (await handle.query(orderStatusQuery)).lastError)

  browser = await launchChromium()
  // Wide and tall enough for the UI's history rows and a failed event's details.
  context = await browser.newContext({ viewport: { width: 1920, height: 1400 } })
  page = await context.newPage()
  page.setDefaultTimeout(20_000)
  appContext = await browser.newContext({ baseURL: server.url, viewport: { width: 1400, height: 1000 } })
  app = await appContext.newPage()
  app.setDefaultTimeout(20_000)
  await signInPage(app, (await makeUser(h.db, 'admin')).username, '/admin')
}, 240_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
  redis?.disconnect()
  await h?.teardown()
  await removeWebBuild(buildDir)
})

describe('a stuck order in the Temporal Web UI', () => {
  it('is found by its workflow id in the workflows list and opens on its own run', async () => {
    expect(workflowId).toBe(`order-${orderId}`)
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId="${workflowId}"`)}`)
    const rows = page.getByTestId('workflows-summary-configurable-table-row')
    await rows.filter({ hasText: workflowId }).first().waitFor()
    await expect(rows.count()).resolves.toBe(1)
    const row = rows.first()
    await expect(row.innerText()).resolves.toMatch(new RegExp(`RUNNING[\\s\\S]*${workflowId}[\\s\\S]*${runId}[\\s\\S]*orderToProvision`))
    await shot(page, 'list')

    await row.getByRole('link', { name: workflowId, exact: true }).click()
    await page.waitForURL(`**/namespaces/default/workflows/${workflowId}/${runId}/**`)
    await expect(page.getByTestId('workflow-id-heading').innerText()).resolves.toBe(workflowId)
    await expect(page.getByTestId('execution-status').first().innerText()).resolves.toBe('RUNNING')
  })

  it('shows the failed panel attempts, and the panel’s error on the failed attempt', async () => {
    await page.goto(runPage('history'))
    await page.getByTestId('compact').click()
    // Compact view: one row per activity, with its type, attempt and failure; newest first.
    const failure = `Marzban panel ${h.marzban.url}/ failed POST /api/user with HTTP ${PANEL_STATUS}`
    const failed = page.getByTestId('event-summary-row').filter({ hasText: 'createPanelAccount' }).filter({ hasText: 'Failure Message' })
    // The history refreshes by itself while the workflow runs: the second attempt fails 5 s after the first.
    await failed.nth(1).waitFor({ timeout: 30_000 })
    expect(await failed.count()).toBeGreaterThanOrEqual(2)
    for (const row of await failed.all()) expect(await row.innerText()).toContain(failure)
    await shot(page, 'history')

    // The row cuts the message short; the failed event's own page shows it whole.
    await failed.first().locator('a[href*="/history/events/"]').last().click()
    await page.waitForURL(`**/workflows/${workflowId}/${runId}/history/events/**`)
    const event = page.locator('main')
    await event.getByText('Activity Task Failed').first().waitFor()
    const shown = await event.innerText()
    expect(shown).toMatch(/Activity Type\s+createPanelAccount/)
    expect(shown).toContain(`"message": "${failure}"`)
    await shot(page, 'failure')
  })

  it('runs the workflow’s status query: the attempt count and the last error', async () => {
    await page.goto(runPage('query'))
    await expect(page.getByTestId('query-select').inputValue()).resolves.toBe('orderStatus')
    await page.getByRole('button', { name: 'Run Query' }).click()
    const answer = page.locator('main').getByText('"lastError"').first()
    await answer.waitFor()
    const shown = await page.locator('main').innerText()
    const attempt = Number(/"attempt":\s*(\d+)/.exec(shown)?.[1])
    expect(attempt).toBeGreaterThanOrEqual(2)
    expect(shown).toContain('"step": "provisioning"')
    expect(shown).toContain(`"lastError": "Marzban panel ${h.marzban.url}/ failed POST /api/user with HTTP ${PANEL_STATUS}"`)
    await shot(page, 'query')
  })

  it('is what the admin ops page’s "Open in Temporal UI" link opens', async () => {
    await app.goto('/admin/workflows')
    const card = app.getByTestId(`workflow-${workflowId}`)
    await card.waitFor()
    const link = card.locator(`a[href^="${uiUrl}/"]`)
    await expect(link.getAttribute('href')).resolves.toBe(`${uiUrl}/namespaces/default/workflows/${workflowId}/${runId}`)

    // The link opens a new tab.
    const [opened] = await Promise.all([appContext.waitForEvent('page'), link.click()])
    await opened.waitForURL(`**/namespaces/default/workflows/${workflowId}/${runId}/**`)
    await opened.getByTestId('workflow-id-heading').waitFor()
    await expect(opened.getByTestId('workflow-id-heading').innerText()).resolves.toBe(workflowId)
    await expect(opened.locator('main').innerText()).resolves.toContain(runId)
    await shot(opened, 'from-ops')
    await opened.close()
  })

  it('after a cancel from the ops page, shows the panel clean-up as a pending activity with its attempts and last failure', async () => {
    await app.goto(`/admin/workflows?id=${workflowId}`)
    await app.getByTestId(`workflow-${workflowId}`).locator('button[value=cancel]').click()
    await app.getByTestId('workflow-result').locator('.notice-success').waitFor()

    // The refund is made; the panel user that may be half-made is removed by an activity Temporal retries.
    const handle = h.client.workflow.getHandle(workflowId)
    await waitFor('a second attempt at the panel clean-up', async () => (await handle.describe()).raw.pendingActivities?.some((a) => a.activityType?.name === 'deletePanelAccount' && (a.attempt ?? 0) >= 2), 40_000)
    await page.goto(runPage('pending-activities'))
    await page.getByText('deletePanelAccount').first().waitFor()
    const shown = await page.locator('main').innerText()
    const attempt = Number(/Attempt\s+(\d+)\s*\/\s*UNLIMITED/.exec(shown)?.[1])
    expect(attempt).toBeGreaterThanOrEqual(2)
    expect(shown).toContain('Last Failure')
    expect(shown).toContain(`Marzban panel ${h.marzban.url}/ failed GET /api/user/fp_${orderId} with HTTP ${PANEL_STATUS}`)
    await shot(page, 'pending-activity')
    expect((await h.db('orders').where({ id: orderId }).first()).status).toBe('cancelled')
  })
})
