import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { useActionData, useSearchParams } from '@remix-run/react'
import { unseal } from '#db/crypto.ts'
import { getUserById } from '#db/web-users.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card } from '~/components/page.tsx'
import { audit } from '~/utils/audit.server.ts'
import { getAuth, HOME_BY_ROLE, startSession } from '~/utils/auth.server.ts'
import { readForm } from '~/utils/forms.server.ts'
import { safeRedirectPath } from '~/utils/misc.ts'
import { clearFailures, codeGuessChecks, longestBlock, recordFailures } from '~/utils/rate-limit.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { TOTP_PURPOSE, verifyTotp } from '~/utils/totp.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export { retryAfterHeaders as headers } from '~/utils/headers.ts'

/** Only a session that passed the password and still owes its code may be here. */
async function pendingUser(request: Request, context: LoaderFunctionArgs['context']) {
  const auth = await getAuth(request, context)
  if (!auth.user) throw redirect('/login')
  if (!auth.user.totpEnabled || auth.user.twoFactorVerified) throw redirect(HOME_BY_ROLE[auth.user.role])
  return auth.user
}

export async function loader({ request, context }: LoaderFunctionArgs) {
  await pendingUser(request, context)
  return null
}

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await readForm(request, context)
  const user = await pendingUser(request, context)
  const { t, fmt } = i18nFor(request, context, user)
  const limits = codeGuessChecks(context.env, user.id, context.clientIp)
  const wait = await longestBlock(context.redis, limits.checks)
  if (wait > 0) return data({ formError: t.auth.tooManyAttempts(fmt.number(wait)) }, { status: 429, headers: { 'Retry-After': String(wait) } })

  const row = await getUserById(context.db, user.id)
  const code = String(form.get('code') ?? '')
  const ok = row?.totpSecretEncrypted
    ? await verifyTotp(context, user.id, unseal(context.env.APP_SECRET, TOTP_PURPOSE, row.totpSecretEncrypted), code)
    : false
  if (!ok) {
    await recordFailures(context.redis, limits.checks)
    return data({ formError: t.auth.invalidCode }, { status: 400 })
  }
  await clearFailures(context.redis, limits.pair)
  // A new session id once the second factor is proven.
  const cookie = await startSession(request, context, user.id, { twoFactorVerified: true })
  await audit(request, context, user.id, 'auth.two_factor_passed', { type: 'user', id: user.id })
  return redirect(safeRedirectPath(form.get('redirectTo'), HOME_BY_ROLE[user.role]), { headers: { 'Set-Cookie': cookie } })
}

export default function TwoFactor() {
  const actionData = useActionData<typeof action>()
  const [params] = useSearchParams()
  const { t } = useI18n()
  return (
    <Card className="auth-card">
      <h1>{t.auth.twoFactorTitle}</h1>
      <p>{t.auth.twoFactorPrompt}</p>
      {actionData?.formError ? <Notice kind="error">{actionData.formError}</Notice> : null}
      <PostForm>
        <input type="hidden" name="redirectTo" value={params.get('redirectTo') ?? ''} />
        <Field label={t.auth.code} name="code" inputMode="numeric" autoComplete="one-time-code" dir="ltr" required autoFocus />
        <div className="form-actions">
          <SubmitButton>{t.auth.verify}</SubmitButton>
        </div>
      </PostForm>
    </Card>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
