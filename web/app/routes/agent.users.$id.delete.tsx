import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useActionData, useLoaderData } from '@remix-run/react'
import { getAccountOfUser } from '#db/shop.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Ltr, PageHeader } from '~/components/page.tsx'
import { RefundConfirm } from '~/components/refund-confirm.tsx'
import { requireRole } from '~/utils/auth.server.ts'
import { readForm } from '~/utils/forms.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'
import { deleteFromForm, positiveId, refundPreview } from '~/utils/shop.server.ts'

export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const id = positiveId(params.id)
  const account = await getAccountOfUser(context.db, user.id, id)
  if (!account) throw new Response('Not found', { status: 404 })
  const { t } = i18nFor(request, context, user)
  return { account: { id: account.id, panelUsername: account.panelUsername, label: account.label }, preview: await refundPreview(context, user.id, id, t) }
}

export async function action({ request, context, params }: ActionFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const form = await readForm(request, context)
  const { t } = i18nFor(request, context, user)
  const id = positiveId(params.id)
  if (!(await getAccountOfUser(context.db, user.id, id))) throw new Response('Not found', { status: 404 })
  const outcome = await deleteFromForm(context, user.id, id, form, t)
  if (!outcome.ok) return data({ errors: outcome.errors }, { status: outcome.status })
  return redirect(`/agent/users/${id}`)
}

export default function AgentDeleteUser() {
  const { account, preview } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const { t } = useI18n()
  return (
    <>
      <PageHeader title={t.shop.refund.title}>
        <Link to={`/agent/users/${account.id}`} className="btn">
          {t.common.cancel}
        </Link>
      </PageHeader>
      <p>
        <Ltr>{account.panelUsername}</Ltr> {account.label ? `(${account.label})` : null}
      </p>
      <RefundConfirm preview={preview} errors={actionData?.errors ?? {}} />
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
