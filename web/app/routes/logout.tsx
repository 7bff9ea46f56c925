import { redirect, type ActionFunctionArgs } from '@remix-run/node'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { audit } from '~/utils/audit.server.ts'
import { endAllSessions, endSession, getAuth } from '~/utils/auth.server.ts'
import { readForm } from '~/utils/forms.server.ts'

export async function loader() {
  return redirect('/')
}

/** Signs out this browser, or (intent=everywhere) every session of the account. */
export async function action({ request, context }: ActionFunctionArgs) {
  const form = await readForm(request, context)
  const auth = await getAuth(request, context)
  let cookie: string
  if (form.get('intent') === 'everywhere' && auth.user) {
    cookie = await endAllSessions(context, auth.user.id)
    await audit(request, context, auth.user.id, 'auth.logout_everywhere', { type: 'user', id: auth.user.id })
  } else {
    cookie = await endSession(request, context)
  }
  return redirect('/login', { headers: { 'Set-Cookie': cookie } })
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
