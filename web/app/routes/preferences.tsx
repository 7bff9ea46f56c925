import { redirect, type ActionFunctionArgs } from '@remix-run/node'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { isLocale } from '~/i18n/index.ts'
import { updateUserPrefs } from '#db/web-users.ts'
import { getOptionalUser } from '~/utils/auth.server.ts'
import { readForm } from '~/utils/forms.server.ts'
import { safeRedirectPath } from '~/utils/misc.ts'
import { serializePrefs } from '~/utils/prefs.server.ts'
import { i18nFor, resolvePrefs } from '~/utils/request.server.ts'

export async function loader() {
  return redirect('/')
}

/**
 * Switches language or theme; works without JavaScript. The choice is kept on the signed-in user's row
 * (so it follows them to other devices) and in a cookie (for the sign-in page).
 */
export async function action({ request, context }: ActionFunctionArgs) {
  const form = await readForm(request, context)
  const user = await getOptionalUser(request, context)
  const current = resolvePrefs(request, context, user)
  const locale = form.get('locale')
  const theme = form.get('theme')
  if ((locale !== null && !isLocale(locale)) || (theme !== null && theme !== 'dark' && theme !== 'light')) {
    throw new Response(i18nFor(request, context, user).t.errors.invalid, { status: 400, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
  }
  const next = {
    locale: isLocale(locale) ? locale : current.locale,
    theme: theme === 'dark' || theme === 'light' ? theme : current.theme,
  }
  if (user) await updateUserPrefs(context.db, user.id, next)
  return redirect(safeRedirectPath(form.get('redirectTo')), { headers: { 'Set-Cookie': serializePrefs(next, context.env) } })
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
