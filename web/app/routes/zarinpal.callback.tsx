import { redirect, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useLoaderData } from '@remix-run/react'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Notice } from '~/components/forms.tsx'
import { PageHeader } from '~/components/page.tsx'
import { getOptionalUser } from '~/utils/auth.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { handleGatewayCallback } from '~/utils/zarinpal.server.ts'

/**
 * Where Zarinpal sends the payer back (`?Authority=…&Status=OK|NOK`). The verification happens here, server to
 * server; the payer then lands on the order (or payment) page, which follows the rest live. Nothing in the query
 * string is trusted: an unknown authority or a failed verification changes nothing.
 */
export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request, context)
  const { t } = i18nFor(request, context, user)
  const url = new URL(request.url)
  const outcome = await handleGatewayCallback(context, { authority: url.searchParams.get('Authority'), status: url.searchParams.get('Status'), t })
  if (outcome.kind !== 'unknown' && user && user.id === outcome.userId) {
    const base = user.role === 'agent' ? '/agent' : '/customer'
    const page = outcome.orderId ? `${base}/orders/${outcome.orderId}` : `${base}/payments/${outcome.paymentId}`
    return redirect(`${page}?gateway=${outcome.kind}`)
  }
  return { kind: outcome.kind, signedIn: Boolean(user) }
}

export default function ZarinpalCallback() {
  const { kind, signedIn } = useLoaderData<typeof loader>()
  const { t } = useI18n()
  const g = t.shop.gateway
  return (
    <>
      <PageHeader title={g.title} />
      <Notice kind={kind === 'verified' ? 'success' : kind === 'unknown' || kind === 'failed' || kind === 'late' ? 'error' : 'info'}>{(g.outcomes as Record<string, string>)[kind] ?? kind}</Notice>
      <p>
        {signedIn ? (
          <Link to="/" className="btn">
            {t.nav.home}
          </Link>
        ) : (
          <Link to="/login" className="btn">
            {t.nav.signIn}
          </Link>
        )}
      </p>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
