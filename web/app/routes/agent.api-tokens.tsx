import { data, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { useActionData, useLoaderData } from '@remix-run/react'
import { z } from 'zod'
import { ApiTokenError, createApiToken, listApiTokens, MAX_ACTIVE_TOKENS, revokeApiToken } from '#db/api-tokens.ts'
import { CopyButton } from '~/components/copy-button.tsx'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, Ltr, PageHeader, StatusBadge } from '~/components/page.tsx'
import { audit } from '~/utils/audit.server.ts'
import { requireRole } from '~/utils/auth.server.ts'
import { f, parseForm, readForm } from '~/utils/forms.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { useI18n } from '~/utils/root-data.ts'

export async function loader({ request, context }: LoaderFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  return { tokens: await listApiTokens(context.db, user.id), max: MAX_ACTIVE_TOKENS, apiBase: new URL('/api/v1', context.env.PUBLIC_URL).toString() }
}

type Result = { ok: boolean; message?: string; token?: string; errors?: Record<string, string> }

const CreateSchema = z.object({ name: f.text(80) })
const RevokeSchema = z.object({ tokenId: f.id() })

export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireRole(request, context, 'agent')
  const form = await readForm(request, context)
  const { t } = i18nFor(request, context, user)
  const s = t.shop.tokens
  switch (form.get('intent')) {
    case 'create': {
      const parsed = parseForm(CreateSchema, form, t)
      if (!parsed.ok) return data<Result>({ ok: false, errors: parsed.errors }, { status: 400 })
      try {
        const { token, row } = await createApiToken(context.db, { userId: user.id, name: parsed.data.name })
        await audit(request, context, user.id, 'api_token.create', { type: 'api_token', id: row.id }, { name: row.name, prefix: row.tokenPrefix })
        // The only time the token is shown; it is not stored anywhere in plain text.
        return data<Result>({ ok: true, message: s.created, token }, { headers: { 'Cache-Control': 'no-store' } })
      } catch (error) {
        if (error instanceof ApiTokenError) {
          return data<Result>({ ok: false, errors: { name: error.code === 'TOO_MANY_TOKENS' ? s.tooMany(String(MAX_ACTIVE_TOKENS)) : error.message } }, { status: 400 })
        }
        throw error
      }
    }
    case 'revoke': {
      const parsed = parseForm(RevokeSchema, form, t)
      if (!parsed.ok) return data<Result>({ ok: false, message: t.errors.invalid }, { status: 400 })
      if (!(await revokeApiToken(context.db, { userId: user.id, tokenId: parsed.data.tokenId }))) throw new Response('Not found', { status: 404 })
      await audit(request, context, user.id, 'api_token.revoke', { type: 'api_token', id: parsed.data.tokenId })
      return data<Result>({ ok: true, message: s.revoked })
    }
    default:
      throw new Response(`Unknown intent ${String(form.get('intent'))}`, { status: 400 })
  }
}

export default function AgentApiTokens() {
  const { tokens, max, apiBase } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const { t, fmt } = useI18n()
  const s = t.shop.tokens
  const errors: Record<string, string> = actionData?.errors ?? {}
  return (
    <>
      <PageHeader title={s.title} />
      <p className="muted">
        {s.intro} <Ltr>{apiBase}</Ltr> · <a href="/api/v1/openapi.json">OpenAPI</a>
      </p>
      {actionData?.message ? <Notice kind={actionData.ok ? 'success' : 'error'}>{actionData.message}</Notice> : null}
      {actionData?.token ? (
        <Card title={s.newToken}>
          <p className="notice notice-warning">{s.showOnce}</p>
          <p>
            <Ltr>
              <code className="mono" data-testid="new-token">
                {actionData.token}
              </code>
            </Ltr>{' '}
            <CopyButton text={actionData.token} label={s.copy} />
          </p>
        </Card>
      ) : null}
      <Card title={s.create}>
        <PostForm>
          <Field label={s.name} name="name" required error={errors.name} hint={s.nameHint(fmt.number(max))} />
          <div className="form-actions">
            <SubmitButton value="create">{s.create}</SubmitButton>
          </div>
        </PostForm>
      </Card>
      <Card title={s.list}>
        {tokens.length === 0 ? (
          <p className="muted">{t.common.empty}</p>
        ) : (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>{s.name}</th>
                  <th>{s.prefix}</th>
                  <th>{t.common.created}</th>
                  <th>{s.lastUsed}</th>
                  <th>{t.common.status}</th>
                  <th>{t.common.actions}</th>
                </tr>
              </thead>
              <tbody>
                {tokens.map((token) => (
                  <tr key={token.id}>
                    <td>{token.name}</td>
                    <td>
                      <Ltr>
                        <code className="mono">{token.tokenPrefix}…</code>
                      </Ltr>
                    </td>
                    <td>{fmt.dateTime(token.createdAt)}</td>
                    <td>{token.lastUsedAt ? fmt.dateTime(token.lastUsedAt) : t.common.never}</td>
                    <td>{token.revokedAt ? <StatusBadge status="cancelled" label={s.revokedAt(fmt.dateTime(token.revokedAt))} /> : <StatusBadge status="active" label={t.common.active} />}</td>
                    <td>
                      {token.revokedAt ? null : (
                        <PostForm>
                          <input type="hidden" name="tokenId" value={token.id} />
                          <SubmitButton value="revoke" className="btn btn-small btn-danger">
                            {s.revoke}
                          </SubmitButton>
                        </PostForm>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
