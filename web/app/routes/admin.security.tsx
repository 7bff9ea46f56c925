import { redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { useLoaderData, useSearchParams } from '@remix-run/react'
import { z } from 'zod'
import { countWithoutTwoFactor, getSecuritySettings, setTwoFactorRequirement } from '#db/security-settings.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Checkbox, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, PageHeader } from '~/components/page.tsx'
import { adminAction } from '~/utils/admin.server.ts'
import { audit } from '~/utils/audit.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { f, parseForm } from '~/utils/forms.server.ts'
import { useI18n } from '~/utils/root-data.ts'

const SecuritySchema = z.object({ requireAdmins: f.checkbox(), requireAgents: f.checkbox() })

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAdmin(request, context)
  const [settings, without] = await Promise.all([getSecuritySettings(context.db), countWithoutTwoFactor(context.db)])
  return { settings, without }
}

/** Requires two-step verification for admins and/or agents; a save that changes nothing writes nothing. */
export async function action({ request, context }: ActionFunctionArgs) {
  const { user, form, intent, t } = await adminAction(request, context)
  if (intent !== 'save') throw new Response(`Unknown intent ${intent}`, { status: 400 })
  const parsed = parseForm(SecuritySchema, form, t)
  if (!parsed.ok) throw new Response(t.errors.invalid, { status: 400 })
  const requireTwoFactor = { admin: parsed.data.requireAdmins, agent: parsed.data.requireAgents }
  if (await setTwoFactorRequirement(context.db, requireTwoFactor, user.id)) {
    await audit(request, context, user.id, 'security.require_two_factor', { type: 'settings', id: 'security' }, requireTwoFactor)
  }
  return redirect('/admin/security?notice=saved')
}

export default function Security() {
  const { settings, without } = useLoaderData<typeof loader>()
  const [params] = useSearchParams()
  const { t, fmt } = useI18n()
  return (
    <>
      <PageHeader title={t.security.title} />
      {params.get('notice') === 'saved' ? <Notice kind="success">{t.security.saved}</Notice> : null}
      <Card title={t.security.twoFactorTitle}>
        <p className="muted">{t.security.twoFactorIntro}</p>
        <p data-testid="without-two-factor">{t.security.withoutTwoFactor(fmt.number(without.admin), fmt.number(without.agent))}</p>
        <PostForm>
          <Checkbox label={t.security.requireForAdmins} name="requireAdmins" defaultChecked={settings.requireTwoFactor.admin} />
          <Checkbox label={t.security.requireForAgents} name="requireAgents" defaultChecked={settings.requireTwoFactor.agent} />
          <div className="form-actions">
            <SubmitButton value="save">{t.common.save}</SubmitButton>
          </div>
        </PostForm>
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
