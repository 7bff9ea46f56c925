import { redirect, type ActionFunctionArgs } from '@remix-run/node'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { isLocale } from '~/i18n/index.ts'
import { assertCsrf } from '~/utils/csrf.server.ts'
import { safeRedirectPath } from '~/utils/misc.ts'
import { serializePrefs } from '~/utils/prefs.server.ts'
import { resolvePrefs } from '~/utils/request.server.ts'

export async function loader() {
  return redirect('/')
}

/** Switches language or theme; works without JavaScript and remembers the choice in a cookie. */
export async function action({ request, context }: ActionFunctionArgs) {
  const form = await request.formData()
  assertCsrf(request, form, context.env)
  const current = resolvePrefs(request, context, null)
  const locale = form.get('locale')
  const theme = form.get('theme')
  const next = {
    locale: isLocale(locale) ? locale : current.locale,
    theme: theme === 'dark' || theme === 'light' ? theme : current.theme,
  }
  return redirect(safeRedirectPath(form.get('redirectTo')), { headers: { 'Set-Cookie': serializePrefs(next, context.env) } })
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
