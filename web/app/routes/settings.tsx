import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useActionData, useLoaderData, useSearchParams } from '@remix-run/react'
import QRCode from 'qrcode'
import { z } from 'zod'
import { seal, unseal } from '#db/crypto.ts'
import { getUserById, setPassword, setPendingTotpSecret, setTotpEnabled } from '#db/web-users.ts'
import { twoFactorRequiredFor } from '#db/security-settings.ts'
import { verifyPassword } from '#db/users.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, Ltr, PageHeader } from '~/components/page.tsx'
import { audit } from '~/utils/audit.server.ts'
import { endAllSessions, owesTwoFactorSetup, requireUser, startSession, TWO_FACTOR_SETUP_PATH } from '~/utils/auth.server.ts'
import { f, parseForm, readForm } from '~/utils/forms.server.ts'
import { clearFailures, codeGuessChecks, longestBlock, passwordGuessChecks, recordFailures } from '~/utils/rate-limit.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { generateTotpSecret, TOTP_PURPOSE, totpUri, verifyTotp } from '~/utils/totp.server.ts'
import { useI18n, useOptionalUser } from '~/utils/root-data.ts'

export { retryAfterHeaders as headers } from '~/utils/headers.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  // The one page a user who must set up two-step verification may open: it is where they do.
  const user = await requireUser(request, context, { allowTwoFactorSetup: true })
  const owesSetup = await owesTwoFactorSetup(request, context, user)
  const row = await getUserById(context.db, user.id)
  const mayUse2fa = user.role !== 'customer'
  let setup: { secret: string; qr: string } | null = null
  if (mayUse2fa && row?.totpSecretEncrypted && !row.totpEnabled) {
    const secret = unseal(context.env.APP_SECRET, TOTP_PURPOSE, row.totpSecretEncrypted)
    setup = { secret, qr: await QRCode.toDataURL(totpUri(secret, user.username), { margin: 1, width: 200 }) }
  }
  return { mayUse2fa, totpEnabled: Boolean(row?.totpEnabled), setup, owesSetup }
}

const PasswordSchema = z
  .object({
    currentPassword: z.string({ required_error: 'required' }).min(1, 'required'),
    newPassword: f.newPassword(),
    confirmPassword: z.string({ required_error: 'required' }),
  })
  .refine((v) => v.newPassword === v.confirmPassword, { path: ['confirmPassword'], message: 'passwordsDiffer' })

type ActionResult = { ok: boolean; message?: string; errors?: Record<string, string> }

export async function action({ request, context }: ActionFunctionArgs) {
  const form = await readForm(request, context)
  const user = await requireUser(request, context, { allowTwoFactorSetup: true })
  const { t, fmt } = i18nFor(request, context, user)
  const intent = form.get('intent')
  // Until the required set-up is done, the set-up is all this page does.
  if (intent !== 'start-2fa' && intent !== 'enable-2fa' && (await owesTwoFactorSetup(request, context, user))) return redirect(TWO_FACTOR_SETUP_PATH)
  const secretOf = async () => {
    const row = await getUserById(context.db, user.id)
    return row?.totpSecretEncrypted ? unseal(context.env.APP_SECRET, TOTP_PURPOSE, row.totpSecretEncrypted) : null
  }

  /**
   * A guess of a two-step code or of the current password, counted as at sign-in: a stolen session must not try
   * codes or passwords without limit. Returns the seconds to wait when blocked.
   */
  const guess = async (limits: ReturnType<typeof codeGuessChecks>, check: () => Promise<boolean>): Promise<boolean | number> => {
    const wait = await longestBlock(context.redis, limits.checks)
    if (wait > 0) return wait
    if (await check()) {
      await clearFailures(context.redis, limits.pair)
      return true
    }
    await recordFailures(context.redis, limits.checks)
    return false
  }
  const tooMany = (wait: number) =>
    data<ActionResult>({ ok: false, message: t.auth.tooManyAttempts(fmt.number(wait)) }, { status: 429, headers: { 'Retry-After': String(wait) } })
  const codeIsRight = async () => {
    const secret = await secretOf()
    return guess(codeGuessChecks(context.env, user.id, context.clientIp), async () => Boolean(secret) && verifyTotp(context, user.id, secret!, String(form.get('code') ?? '')))
  }

  if (intent === 'start-2fa' || intent === 'enable-2fa' || intent === 'disable-2fa') {
    if (user.role === 'customer') throw new Response('Unauthorized: two-step verification is for admins and agents', { status: 403 })
  }
  switch (intent) {
    case 'start-2fa': {
      if (user.totpEnabled) return data<ActionResult>({ ok: false, message: t.settings.twoFactorOn }, { status: 400 })
      await setPendingTotpSecret(context.db, user.id, seal(context.env.APP_SECRET, TOTP_PURPOSE, generateTotpSecret()))
      return redirect('/settings')
    }
    case 'enable-2fa': {
      const right = await codeIsRight()
      if (typeof right === 'number') return tooMany(right)
      if (!right) return data<ActionResult>({ ok: false, errors: { code: t.auth.invalidCode } }, { status: 400 })
      await setTotpEnabled(context.db, user.id, true)
      await audit(request, context, user.id, 'auth.two_factor_enabled', { type: 'user', id: user.id })
      // Every other session is ended; this browser continues with a fresh, verified session.
      await endAllSessions(context, user.id)
      const cookie = await startSession(request, context, user.id, { twoFactorVerified: true })
      // A redirect, not data: the page must reload with the new session cookie, the old one is gone.
      return redirect('/settings?notice=twoFactorEnabled', { headers: { 'Set-Cookie': cookie } })
    }
    case 'disable-2fa': {
      if (await twoFactorRequiredFor(context.db, user.role)) {
        return data<ActionResult>({ ok: false, message: t.settings.twoFactorRequiredKeep }, { status: 400 })
      }
      const right = await codeIsRight()
      if (typeof right === 'number') return tooMany(right)
      if (!right) return data<ActionResult>({ ok: false, errors: { code: t.auth.invalidCode } }, { status: 400 })
      await setTotpEnabled(context.db, user.id, false)
      await audit(request, context, user.id, 'auth.two_factor_disabled', { type: 'user', id: user.id })
      return data<ActionResult>({ ok: true, message: t.settings.twoFactorDisabled })
    }
    case 'change-password': {
      const parsed = parseForm(PasswordSchema, form, t)
      if (!parsed.ok) return data<ActionResult>({ ok: false, errors: parsed.errors }, { status: 400 })
      const row = await getUserById(context.db, user.id)
      const right = await guess(passwordGuessChecks(context.env, user.username, context.clientIp), async () =>
        Boolean(row?.passwordHash) && verifyPassword(row!.passwordHash!, parsed.data.currentPassword),
      )
      if (typeof right === 'number') return tooMany(right)
      if (!right) return data<ActionResult>({ ok: false, errors: { currentPassword: t.auth.invalidCredentials } }, { status: 400 })
      await setPassword(context.db, user.id, parsed.data.newPassword)
      await audit(request, context, user.id, 'auth.password_changed', { type: 'user', id: user.id })
      await endAllSessions(context, user.id)
      const cookie = await startSession(request, context, user.id, { twoFactorVerified: true })
      return redirect('/settings?notice=passwordChanged', { headers: { 'Set-Cookie': cookie } })
    }
    default:
      throw new Response(`Unknown intent ${String(intent)}`, { status: 400 })
  }
}

const NOTICES = ['twoFactorEnabled', 'passwordChanged'] as const

export default function Settings() {
  const { mayUse2fa, totpEnabled, setup, owesSetup } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [params] = useSearchParams()
  const { t } = useI18n()
  const user = useOptionalUser()
  const errors: Record<string, string> = actionData?.errors ?? {}
  const notice = NOTICES.find((n) => n === params.get('notice'))
  return (
    <>
      <PageHeader title={t.settings.title} />
      {actionData?.message ? <Notice kind={actionData.ok ? 'success' : 'error'}>{actionData.message}</Notice> : null}
      {notice && !actionData ? <Notice kind="success">{t.settings[notice]}</Notice> : null}
      {owesSetup ? <Notice kind="warning">{t.settings.twoFactorRequired}</Notice> : null}
      <div className="grid-2">
        {user?.role === 'agent' && !owesSetup ? (
          <Card title={t.shop.tokens.title}>
            <p className="muted">{t.shop.tokens.intro}</p>
            <Link to="/agent/api-tokens" className="btn">
              {t.shop.tokens.title}
            </Link>
          </Card>
        ) : null}
        {mayUse2fa ? (
          <Card title={t.settings.twoFactor}>
            <p>{totpEnabled ? t.settings.twoFactorOn : t.settings.twoFactorOff}</p>
            {totpEnabled ? (
              <PostForm>
                <Field label={t.auth.code} name="code" inputMode="numeric" autoComplete="one-time-code" dir="ltr" required error={errors.code} />
                <div className="form-actions">
                  <SubmitButton value="disable-2fa" className="btn btn-danger">
                    {t.settings.disable2fa}
                  </SubmitButton>
                </div>
              </PostForm>
            ) : setup ? (
              <PostForm>
                <p>{t.settings.twoFactorSetupIntro}</p>
                <img className="qr" src={setup.qr} alt="otpauth QR" />
                <p>
                  {t.settings.secretKey}: <Ltr>
                    <code className="mono" data-testid="totp-secret">
                      {setup.secret}
                    </code>
                  </Ltr>
                </p>
                <Field label={t.auth.code} name="code" inputMode="numeric" autoComplete="one-time-code" dir="ltr" required error={errors.code} />
                <div className="form-actions">
                  <SubmitButton value="enable-2fa">{t.settings.enable2fa}</SubmitButton>
                </div>
              </PostForm>
            ) : (
              <PostForm>
                <SubmitButton value="start-2fa">{t.settings.start2fa}</SubmitButton>
              </PostForm>
            )}
          </Card>
        ) : null}
        {owesSetup ? null : (
          <>
            <Card title={t.settings.changePassword}>
              <PostForm>
                <Field label={t.settings.currentPassword} name="currentPassword" type="password" autoComplete="current-password" dir="ltr" required error={errors.currentPassword} />
                <Field label={t.settings.newPassword} name="newPassword" type="password" autoComplete="new-password" dir="ltr" required error={errors.newPassword} />
                <Field label={t.auth.confirmPassword} name="confirmPassword" type="password" autoComplete="new-password" dir="ltr" required error={errors.confirmPassword} />
                <div className="form-actions">
                  <SubmitButton value="change-password">{t.common.save}</SubmitButton>
                </div>
              </PostForm>
            </Card>
            <Card title={t.settings.sessions}>
              <p className="muted">{t.settings.sessionsHint}</p>
              <PostForm action="/logout">
                <SubmitButton value="everywhere" className="btn btn-danger">
                  {t.auth.signOutEverywhere}
                </SubmitButton>
              </PostForm>
            </Card>
          </>
        )}
      </div>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
