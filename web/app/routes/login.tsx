import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Link, useActionData, useSearchParams } from '@remix-run/react'
import { z } from 'zod'
import { findUserByUsername, hashPassword, verifyPassword } from '#db/users.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card } from '~/components/page.tsx'
import { audit } from '~/utils/audit.server.ts'
import { HOME_BY_ROLE, requireAnonymous, startSession } from '~/utils/auth.server.ts'
import { f, parseForm, readForm } from '~/utils/forms.server.ts'
import { safeRedirectPath } from '~/utils/misc.ts'
import { clearFailures, longestBlock, passwordGuessChecks, recordFailures } from '~/utils/rate-limit.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export { retryAfterHeaders as headers } from '~/utils/headers.ts'

export const meta: MetaFunction = () => [{ title: 'flowpanel' }]

const LoginSchema = z.object({
  username: f.text(64),
  password: z.string({ required_error: 'required' }).min(1, 'required').max(200, 'tooLong'),
  redirectTo: z.string().optional(),
})

/** Verifying against a throwaway hash when the user does not exist keeps the answer time the same. */
let dummyHash: Promise<string> | undefined

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAnonymous(request, context)
  return null
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await readForm(request, context)
  const { t, fmt } = i18nFor(request, context)
  const parsed = parseForm(LoginSchema, form, t)
  if (!parsed.ok) return data({ errors: parsed.errors, formError: null as string | null }, { status: 400 })
  const { username, password } = parsed.data
  const { redis, db, clientIp } = context

  const limits = passwordGuessChecks(context.env, username, clientIp)
  const wait = await longestBlock(redis, limits.checks)
  if (wait > 0) {
    return data({ errors: {}, formError: t.auth.tooManyAttempts(fmt.number(wait)) }, { status: 429, headers: { 'Retry-After': String(wait) } })
  }

  const user = await findUserByUsername(db, username)
  let valid = false
  if (user?.passwordHash) valid = await verifyPassword(user.passwordHash, password)
  else await verifyPassword(await (dummyHash ??= hashPassword('flowpanel-no-such-user')), password)
  if (!user || !valid) {
    await recordFailures(redis, limits.checks)
    if (user) await audit(request, context, null, 'auth.login_failed', { type: 'user', id: user.id })
    return data({ errors: {}, formError: t.auth.invalidCredentials }, { status: 400 })
  }
  if (user.status !== 'active') return data({ errors: {}, formError: t.auth.accountDisabled }, { status: 403 })

  // The owner's success clears their own address only: clearing the username's count would give guessers spread
  // over other addresses a fresh allowance each time the owner signs in.
  await clearFailures(redis, limits.pair)
  const cookie = await startSession(request, context, user.id, { twoFactorVerified: !user.totpEnabled })
  await audit(request, context, user.id, 'auth.login', { type: 'user', id: user.id }, { twoFactorPending: user.totpEnabled })
  const home = safeRedirectPath(parsed.data.redirectTo, HOME_BY_ROLE[user.role])
  const next = user.totpEnabled ? `/two-factor?redirectTo=${encodeURIComponent(home)}` : home
  return redirect(next, { headers: { 'Set-Cookie': cookie } })
}

export default function Login() {
  const actionData = useActionData<typeof action>()
  const [params] = useSearchParams()
  const { t } = useI18n()
  const errors: Record<string, string> = actionData?.errors ?? {}
  return (
    <Card className="auth-card">
      <h1>{t.auth.signInTitle}</h1>
      {actionData?.formError ? <Notice kind="error">{actionData.formError}</Notice> : null}
      <PostForm>
        <input type="hidden" name="redirectTo" value={params.get('redirectTo') ?? ''} />
        <Field label={t.auth.username} name="username" autoComplete="username" dir="ltr" required autoFocus error={errors.username} />
        <Field label={t.auth.password} name="password" type="password" autoComplete="current-password" dir="ltr" required error={errors.password} />
        <div className="form-actions">
          <SubmitButton>{t.auth.signInButton}</SubmitButton>
        </div>
      </PostForm>
      <p className="muted">
        {t.auth.noAccount} <Link to="/register">{t.nav.register}</Link>
      </p>
    </Card>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
