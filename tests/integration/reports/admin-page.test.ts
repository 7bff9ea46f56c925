import ExcelJS from 'exceljs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { wallClock } from '#activities/reports/calendar.ts'
import { signedIn, startTestWeb, type TestBrowser, type TestWeb } from '../web/harness.ts'
import { seedReportData } from './seed.ts'

let web: TestWeb
let admin: TestBrowser
let adminId: number

const day = (offset: number) => wallClock(new Date(Date.now() + offset * 86_400_000), 'Asia/Tehran').toISOString().slice(0, 10)

beforeAll(async () => {
  web = await startTestWeb({ label: 'reports_web' })
  await seedReportData(web.db)
  const signed = await signedIn(web, 'admin')
  admin = signed.browser
  adminId = signed.user.id
})

afterAll(async () => {
  await web?.close()
})

async function download(browser: TestBrowser, query: string): Promise<Response> {
  return fetch(new URL(`/admin/reports/download?${query}`, web.url), {
    redirect: 'manual',
    headers: { Cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'X-Forwarded-For': browser.ip },
  })
}

describe('admin reports page', () => {
  it('shows the form with this month as the default range', async () => {
    const page = await admin.get('/admin/reports')
    expect(page.status).toBe(200)
    expect(page.text).toContain('name="kind"')
    expect(page.text).toContain('name="from"')
    expect(page.text).toMatch(/Ledger report|گزارش دفتر کل/)
  })

  it('sends valid input on to the download and shows errors for bad input', async () => {
    const query = new URLSearchParams({ kind: 'ledger', from: day(-1), to: day(1), locale: 'en' })
    const ok = await admin.get(`/admin/reports?${query}`)
    expect(ok.status).toBe(302)
    expect(ok.location).toBe(`/admin/reports/download?${query}`)

    const bad = await admin.get(`/admin/reports?${new URLSearchParams({ kind: 'ledger', from: '2026-02-30', to: '2026-01-01', locale: 'en' })}`)
    expect(bad.status).toBe(200)
    expect(bad.text).toMatch(/Write the date as YYYY-MM-DD|تاریخ را به شکل YYYY-MM-DD/)
  })

  it('downloads the report as a streamed .xlsx, and records the download in the audit log', async () => {
    const res = await download(admin, new URLSearchParams({ kind: 'ledger', from: day(-1), to: day(1), locale: 'fa' }).toString())
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="flowpanel-ledger-${day(-1)}-${day(1)}.xlsx"`)
    const workbook = new ExcelJS.Workbook()
    await workbook.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ExcelJS.Buffer)
    const sheet = workbook.worksheets[0]!
    const entries = Number((await web.db('ledgerEntries').count({ n: '*' }))[0]!.n)
    expect(sheet.rowCount).toBe(entries + 2)
    expect(sheet.views[0]?.rightToLeft).toBe(true)

    const audit = await web.db('auditLog').where({ action: 'report.download', actorUserId: adminId }).first()
    expect(audit).toMatchObject({ targetType: 'report', targetId: 'ledger' })
  })

  it('answers a malformed download request with 400, and refuses non-admins', async () => {
    const bad = await download(admin, 'kind=everything&from=yesterday&to=today')
    expect(bad.status).toBe(400)
    expect(await bad.text()).toMatch(/^Bad report request \(kind: kind, from: date, to: date\)/)

    const { browser: agent } = await signedIn(web, 'agent')
    const refused = await download(agent, new URLSearchParams({ kind: 'ledger', from: day(-1), to: day(1) }).toString())
    expect(refused.status).toBe(403)
  })
})
