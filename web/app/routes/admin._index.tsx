import type { LoaderFunctionArgs } from '@remix-run/node'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { PageHeader } from '~/components/page.tsx'
import { requireAdmin } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAdmin(request, context)
  return null
}

export default function AdminDashboard() {
  const { t } = useI18n()
  return <PageHeader title={t.dashboard.title} />
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
