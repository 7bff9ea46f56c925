import { isRouteErrorResponse, Link, useRouteError } from '@remix-run/react'
import { useI18n } from '~/utils/root-data.ts'

/**
 * The error page every route exports as its ErrorBoundary. Thrown 403/404/400/415 responses get their own
 * wording; anything else is a server error whose details stay in the server log.
 */
export function GeneralErrorBoundary() {
  const error = useRouteError()
  const { t } = useI18n()
  let title = t.errors.serverErrorTitle
  let text = t.errors.serverError
  let status = 500
  if (isRouteErrorResponse(error)) {
    status = error.status
    if (error.status === 403) {
      title = t.errors.forbiddenTitle
      text = typeof error.data === 'string' && /Cross-site|form token/i.test(error.data) ? t.errors.csrf : t.errors.forbidden
    } else if (error.status === 404) {
      title = t.errors.notFoundTitle
      text = t.errors.notFoundText
    } else if (error.status === 400 || error.status === 415) {
      title = t.errors.badRequestTitle
      text = typeof error.data === 'string' && error.data ? error.data : t.errors.invalid
    } else if (error.status === 413) {
      title = t.errors.badRequestTitle
      text = t.errors.tooLarge
    }
  } else if (typeof document === 'undefined') {
    console.error(error)
  }
  return (
    <section className="error-page" data-status={status}>
      <h1>{title}</h1>
      <p>{text}</p>
      <p className="muted">HTTP {status}</p>
      <p>
        <Link to="/" className="btn">
          {t.nav.home}
        </Link>
      </p>
    </section>
  )
}
