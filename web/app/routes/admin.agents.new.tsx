import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { useActionData, useLoaderData } from '@remix-run/react'
import { listLocations } from '#db/web-catalog.ts'
import { createAgent } from '#db/web-agents.ts'
import { UserInputError } from '#db/users.ts'
import { AgentFields } from '~/components/agent-fields.tsx'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Field, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, PageHeader } from '~/components/page.tsx'
import { adminAction } from '~/utils/admin.server.ts'
import { CreateAgentSchema } from '~/utils/agent-form.server.ts'
import { audit } from '~/utils/audit.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { parseForm } from '~/utils/forms.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAdmin(request, context)
  return { locations: await listLocations(context.db) }
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { user, form, t } = await adminAction(request, context)
  const parsed = parseForm(CreateAgentSchema, form, t)
  if (!parsed.ok) return data({ errors: parsed.errors }, { status: 400 })
  const known = new Set((await listLocations(context.db)).map((l) => l.id))
  if (parsed.data.locationIds.some((id) => !known.has(id))) return data({ errors: { locationIds: t.errors.invalid } }, { status: 400 })
  let agentId: number
  try {
    agentId = await createAgent(context.db, parsed.data)
  } catch (error) {
    if (error instanceof UserInputError) {
      const message = /taken/.test(error.message) ? t.errors.usernameTaken : t.errors.invalid
      return data({ errors: { [error.field]: message } }, { status: 400 })
    }
    throw error
  }
  const { password: _password, ...safe } = parsed.data
  await audit(request, context, user.id, 'agent.create', { type: 'user', id: agentId }, safe)
  return redirect(`/admin/agents/${agentId}?notice=created`)
}

export default function NewAgent() {
  const { locations } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const { t } = useI18n()
  const errors: Record<string, string> = actionData?.errors ?? {}
  return (
    <>
      <PageHeader title={t.agents.newAgent} />
      <Card>
        <PostForm>
          <fieldset className="form-grid">
            <legend>{t.agents.account}</legend>
            <Field label={t.auth.username} name="username" dir="ltr" autoComplete="off" required error={errors.username} hint={t.errors.invalidUsername} />
            <Field label={t.auth.password} name="password" type="password" dir="ltr" autoComplete="new-password" required error={errors.password} hint={t.auth.newPasswordHint} />
          </fieldset>
          <AgentFields errors={errors} locations={locations} />
          <div className="form-actions">
            <SubmitButton value="create">{t.common.create}</SubmitButton>
          </div>
        </PostForm>
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
