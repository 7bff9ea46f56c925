import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useActionData } from '@remix-run/react'
import { z } from 'zod'
import { createUser, USERNAME_PATTERN, UserInputError } from '#db/users.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card } from '~/components/page.tsx'
import { audit } from '~/utils/audit.server.ts'
import { requireAnonymous, startSession } from '~/utils/auth.server.ts'
import { f, parseForm, readForm } from '~/utils/forms.server.ts'
import { limitKeys, LOGIN_LIMITS, longestBlock, recordFailure } from '~/utils/rate-limit.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export { retryAfterHeaders as headers } from '~/utils/headers.ts'

const RegisterSchema = z
  .object({
    username: f.text(32).pipe(z.string().regex(USERNAME_PATTERN, 'invalidUsername')),
    displayName: f.optionalText(80, 'name'),
    password: f.newPassword(),
    confirmPassword: z.string({ required_error: 'required' }),
  })
  .refine((v) => v.password === v.confirmPassword, { path: ['confirmPassword'], message: 'passwordsDiffer' })

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAnonymous(request, context)
  return null
}

/** Customers sign themselves up; agents and admins are created by an admin. */
export async function action({ request, context }: ActionFunctionArgs) {
  await requireAnonymous(request, context)
  const form = await readForm(request, context)
  const { t, locale, fmt } = i18nFor(request, context)
  const parsed = parseForm(RegisterSchema, form, t)
  if (!parsed.ok) return data({ errors: parsed.errors, formError: null as string | null }, { status: 400 })

  const ipKey = limitKeys(context.env).register(context.clientIp)
  const wait = await longestBlock(context.redis, [[ipKey, LOGIN_LIMITS.registrationsPerIp]])
  if (wait > 0) {
    return data({ errors: {}, formError: t.auth.tooManyAttempts(fmt.number(wait)) }, { status: 429, headers: { 'Retry-After': String(wait) } })
  }
  let userId: number
  try {
    const user = await createUser(context.db, {
      username: parsed.data.username,
      password: parsed.data.password,
      role: 'customer',
      displayName: parsed.data.displayName ?? undefined,
      locale,
    })
    userId = user.id
  } catch (error) {
    if (error instanceof UserInputError) {
      const taken = error.field === 'username' && /taken/.test(error.message)
      // A taken name tells the visitor that an account exists: it is counted like a sign-up.
      if (taken) await recordFailure(context.redis, ipKey, LOGIN_LIMITS.registrationsPerIp)
      const message = taken ? t.errors.usernameTaken : t.errors.invalid
      return data({ errors: { [error.field]: message }, formError: null }, { status: 400 })
    }
    throw error
  }
  await recordFailure(context.redis, ipKey, LOGIN_LIMITS.registrationsPerIp)
  await audit(request, context, userId, 'auth.register', { type: 'user', id: userId })
  const cookie = await startSession(request, context, userId, { twoFactorVerified: true })
  return redirect('/customer', { headers: { 'Set-Cookie': cookie } })
}

export default function Register() {
  const actionData = useActionData<typeof action>()
  const { t } = useI18n()
  const errors: Record<string, string> = actionData?.errors ?? {}
  return (
    <Card className="auth-card">
      <h1>{t.auth.registerTitle}</h1>
      {actionData?.formError ? <Notice kind="error">{actionData.formError}</Notice> : null}
      <PostForm>
        <Field label={t.auth.username} name="username" autoComplete="username" dir="ltr" required error={errors.username} hint={t.errors.invalidUsername} />
        <Field label={t.auth.displayName} name="displayName" autoComplete="name" error={errors.displayName} />
        <Field label={t.auth.password} name="password" type="password" autoComplete="new-password" dir="ltr" required error={errors.password} hint={t.auth.newPasswordHint} />
        <Field label={t.auth.confirmPassword} name="confirmPassword" type="password" autoComplete="new-password" dir="ltr" required error={errors.confirmPassword} />
        <div className="form-actions">
          <SubmitButton>{t.auth.registerButton}</SubmitButton>
        </div>
      </PostForm>
      <p className="muted">
        {t.auth.haveAccount} <Link to="/login">{t.nav.signIn}</Link>
      </p>
    </Card>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
