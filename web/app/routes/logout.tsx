import { redirect, type ActionFunctionArgs } from '@remix-run/node'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { audit } from '~/utils/audit.server.ts'
import { endAllSessions, endSession, getOptionalUser, owesTwoFactorSetup } from '~/utils/auth.server.ts'
import { readForm } from '~/utils/forms.server.ts'

export async function loader() {
  return redirect('/')
}

/**
 * Signs out this browser, or (intent=everywhere) every session of the account. Only a fully signed-in session may end
 * the others: one that still owes its two-step code (or the set-up an admin requires) knows the password at most,
 * and signs out only itself.
 */
export async function action({ request, context }: ActionFunctionArgs) {
  const form = await readForm(request, context)
  const user = await getOptionalUser(request, context)
  let cookie: string
  if (form.get('intent') === 'everywhere' && user && !(await owesTwoFactorSetup(request, context, user))) {
    cookie = await endAllSessions(context, user.id)
    await audit(request, context, user.id, 'auth.logout_everywhere', { type: 'user', id: user.id })
  } else {
    cookie = await endSession(request, context)
  }
  return redirect('/login', { headers: { 'Set-Cookie': cookie } })
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
