import { redirect, type LoaderFunctionArgs } from '@remix-run/node'
import { Link } from '@remix-run/react'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { getOptionalUser, HOME_BY_ROLE } from '~/utils/auth.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request, context)
  if (user) throw redirect(HOME_BY_ROLE[user.role])
  return null
}

export default function Index() {
  const { t } = useI18n()
  return (
    <section className="hero">
      <h1>{t.meta.appName}</h1>
      <p>
        <Link className="btn btn-primary" to="/login">
          {t.nav.signIn}
        </Link>{' '}
        <Link className="btn" to="/register">
          {t.nav.register}
        </Link>
      </p>
    </section>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
