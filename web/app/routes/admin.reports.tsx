import { redirect, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Form, useLoaderData } from '@remix-run/react'
import { REPORTS } from '#activities/reports/definitions.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Field, Notice, Select } from '~/components/forms.tsx'
import { Card, PageHeader } from '~/components/page.tsx'
import { requireAdmin } from '~/utils/auth.server.ts'
import { resolvePrefs } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { currentMonth, parseReportParams, REPORT_KINDS, REPORT_TIME_ZONE } from './admin.reports.server.ts'

// The time zone reaches the component through the loader: a value imported from a .server module is not in the browser bundle.

export const meta: MetaFunction = () => [{ title: 'flowpanel' }]

/** The page's own strings: they belong to this page only. */
const TEXT = {
  fa: {
    title: 'گزارش‌های اکسل',
    intro: 'گزارش را برای بازه‌ای از روزها (هر دو روز شامل) دریافت کنید. تاریخ را شمسی (۱۴۰۴-۱۱-۰۱) یا میلادی (2026-01-21) بنویسید.',
    kind: 'گزارش',
    from: 'از روز',
    to: 'تا روز',
    language: 'زبان فایل',
    languages: { fa: 'فارسی (راست به چپ، تاریخ شمسی)', en: 'English (left to right)' },
    download: 'دریافت فایل',
    timeZone: (zone: string) => `روزها و ساعت‌ها به وقت ${zone} هستند.`,
    errors: {
      kind: 'یک گزارش را انتخاب کنید.',
      date: 'تاریخ را به شکل YYYY-MM-DD و درست بنویسید.',
      order: '«تا روز» نباید پیش از «از روز» باشد.',
      locale: 'زبان را انتخاب کنید.',
    },
    fixBelow: 'لطفاً خطاهای زیر را اصلاح کنید.',
    about: {
      orders: 'همه سفارش‌های ثبت‌شده در بازه، با نماینده، پلن، پنل، مبلغ و وضعیت.',
      payments: 'پرداخت‌های ثبت‌شده در بازه، با روش، نتیجه بررسی، بررسی‌کننده و زمان آن.',
      ledger: 'همه ردیف‌های دفتر کل در بازه، با موجودی قبل و بعد.',
      agents: 'برای هر نماینده: فروش، بازپرداخت و شارژ در بازه؛ موجودی و منفی‌بودن اعتبار در حال حاضر.',
      accounts: 'اکانت‌های ساخته‌شده در بازه، با مصرف و تاریخ انقضا.',
    },
  },
  en: {
    title: 'Excel reports',
    intro: 'Download a report for a range of days (both included). Write dates as YYYY-MM-DD, Gregorian (2026-01-21) or Jalali (1404-11-01).',
    kind: 'Report',
    from: 'From day',
    to: 'To day',
    language: 'File language',
    languages: { fa: 'Persian (right to left, Jalali dates)', en: 'English (left to right)' },
    download: 'Download',
    timeZone: (zone: string) => `Days and times are ${zone} time.`,
    errors: {
      kind: 'Choose a report.',
      date: 'Write the date as YYYY-MM-DD, and a day that exists.',
      order: '"To day" must not be before "From day".',
      locale: 'Choose a language.',
    },
    fixBelow: 'Please correct the errors below.',
    about: {
      orders: 'Every order placed in the range, with agent, plan, panel, price and status.',
      payments: 'Payments made in the range, with method, decision, who decided and when.',
      ledger: 'Every ledger entry in the range, with balances before and after.',
      agents: 'Per agent: sales, refunds and approved charges in the range; balances and negative credit as of now.',
      accounts: 'Accounts created in the range, with usage and expiry.',
    },
  },
} as const

/**
 * The form submits to this page as a document request. Valid input redirects to the download, which the
 * browser saves while this page stays on screen; invalid input comes back with the errors.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const admin = await requireAdmin(request, context)
  const { locale } = resolvePrefs(request, context, admin)
  const url = new URL(request.url)
  const defaults = { kind: 'ledger', ...currentMonth(locale), locale }
  const kinds = REPORT_KINDS.map((kind) => ({ value: kind, label: REPORTS[kind].title[locale] }))
  if (!url.searchParams.has('kind')) return { values: defaults, errors: {} as Record<string, string>, kinds, timeZone: REPORT_TIME_ZONE }
  const parsed = parseReportParams(url.searchParams, locale)
  if (parsed.ok) throw redirect(`/admin/reports/download?${new URLSearchParams({ ...parsed.value }).toString()}`)
  const values = {
    kind: url.searchParams.get('kind') ?? defaults.kind,
    from: url.searchParams.get('from') ?? defaults.from,
    to: url.searchParams.get('to') ?? defaults.to,
    locale: url.searchParams.get('locale') ?? locale,
  }
  return { values, errors: parsed.errors as Record<string, string>, kinds, timeZone: REPORT_TIME_ZONE }
}

export default function AdminReports() {
  const { values, errors, kinds, timeZone } = useLoaderData<typeof loader>()
  const { locale } = useI18n()
  const text = TEXT[locale]
  const error = (field: string) => (errors[field] ? text.errors[errors[field] as keyof typeof text.errors] : null)
  return (
    <>
      <PageHeader title={text.title} />
      <Card>
        <p>{text.intro}</p>
        {Object.keys(errors).length > 0 ? <Notice kind="error">{text.fixBelow}</Notice> : null}
        <Form method="get" reloadDocument className="form">
          <Select
            label={text.kind}
            name="kind"
            defaultValue={values.kind}
            error={error('kind')}
            options={kinds}
          />
          <Field label={text.from} name="from" defaultValue={values.from} error={error('from')} dir="ltr" inputMode="numeric" placeholder="YYYY-MM-DD" required />
          <Field label={text.to} name="to" defaultValue={values.to} error={error('to')} dir="ltr" inputMode="numeric" placeholder="YYYY-MM-DD" required />
          <Select
            label={text.language}
            name="locale"
            defaultValue={values.locale}
            error={error('locale')}
            options={[
              { value: 'fa', label: text.languages.fa },
              { value: 'en', label: text.languages.en },
            ]}
          />
          <button type="submit" className="btn btn-primary">
            {text.download}
          </button>
        </Form>
        <p className="hint">{text.timeZone(timeZone)}</p>
      </Card>
      <Card>
        <dl>
          {kinds.map((kind) => (
            <div key={kind.value}>
              <dt>{kind.label}</dt>
              <dd>{text.about[kind.value]}</dd>
            </div>
          ))}
        </dl>
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
