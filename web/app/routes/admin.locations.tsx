import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useActionData, useLoaderData, useSearchParams } from '@remix-run/react'
import { z } from 'zod'
import { CatalogConflictError, createLocation, listLocations, updateLocation, type LocationRow } from '#db/web-catalog.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Checkbox, Field, Notice, PostForm, SubmitButton } from '~/components/forms.tsx'
import { Card, Ltr, PageHeader, StatusBadge } from '~/components/page.tsx'
import { adminAction, idParam } from '~/utils/admin.server.ts'
import { audit } from '~/utils/audit.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { f, parseForm } from '~/utils/forms.server.ts'
import { useI18n } from '~/utils/root-data.ts'

const LocationSchema = z.object({
  code: f.text(32).pipe(z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/i, 'invalid')),
  nameFa: f.text(80),
  nameEn: f.text(80),
  active: f.checkbox(),
})

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAdmin(request, context)
  return { locations: await listLocations(context.db) }
}

type Result = { ok: boolean; message?: string; errors?: Record<string, string>; form?: string }

export async function action({ request, context }: ActionFunctionArgs) {
  const { user, form, intent, t } = await adminAction(request, context)
  const id = form.get('id') ? idParam(form.get('id')) : null
  const formName = intent === 'create' ? 'create' : `edit-${id}`
  if (intent !== 'create' && intent !== 'update') throw new Response(`Unknown intent ${intent}`, { status: 400 })
  const parsed = parseForm(LocationSchema, form, t)
  if (!parsed.ok) return data<Result>({ ok: false, errors: parsed.errors, form: formName }, { status: 400 })
  try {
    if (intent === 'create') {
      const locationId = await createLocation(context.db, parsed.data)
      await audit(request, context, user.id, 'location.create', { type: 'location', id: locationId }, parsed.data)
      return data<Result>({ ok: true, message: t.locations.created })
    }
    if (!id || !(await updateLocation(context.db, id, parsed.data))) throw new Response('Not found', { status: 404 })
    await audit(request, context, user.id, 'location.update', { type: 'location', id }, parsed.data)
    return redirect('/admin/locations?notice=updated')
  } catch (error) {
    if (error instanceof CatalogConflictError) return data<Result>({ ok: false, errors: { code: t.errors.codeTaken }, form: formName }, { status: 400 })
    throw error
  }
}

function LocationForm({ location, errors, intent }: { location?: LocationRow; errors: Record<string, string>; intent: 'create' | 'update' }) {
  const { t } = useI18n()
  return (
    <PostForm>
      {location ? <input type="hidden" name="id" value={location.id} /> : null}
      <div className="form-grid">
        <Field label={t.locations.code} name="code" dir="ltr" defaultValue={location?.code} hint={t.locations.codeHint} required error={errors.code} />
        <Field label={t.locations.nameFa} name="nameFa" defaultValue={location?.nameFa} required error={errors.nameFa} />
        <Field label={t.locations.nameEn} name="nameEn" dir="ltr" defaultValue={location?.nameEn} required error={errors.nameEn} />
        <div className="field">
          <span className="hint">&nbsp;</span>
          <Checkbox label={t.common.active} name="active" defaultChecked={location?.active ?? true} />
        </div>
      </div>
      <div className="form-actions">
        <SubmitButton value={intent}>{intent === 'create' ? t.common.create : t.common.save}</SubmitButton>
        {location ? (
          <Link to="/admin/locations" className="btn">
            {t.common.cancel}
          </Link>
        ) : null}
      </div>
    </PostForm>
  )
}

export default function Locations() {
  const { locations } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [params] = useSearchParams()
  const { t, fmt } = useI18n()
  const editing = locations.find((l) => String(l.id) === params.get('edit'))
  const errorsFor = (name: string): Record<string, string> => (actionData?.form === name ? (actionData.errors ?? {}) : {})
  return (
    <>
      <PageHeader title={t.locations.title} />
      {actionData?.ok && actionData.message ? <Notice kind="success">{actionData.message}</Notice> : null}
      {params.get('notice') === 'updated' && !actionData ? <Notice kind="success">{t.locations.updated}</Notice> : null}
      {editing ? (
        <Card title={t.common.edit}>
          <LocationForm key={editing.id} location={editing} errors={errorsFor(`edit-${editing.id}`)} intent="update" />
        </Card>
      ) : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>{t.locations.code}</th>
              <th>{t.locations.nameFa}</th>
              <th>{t.locations.nameEn}</th>
              <th className="num">{t.locations.panels}</th>
              <th>{t.common.status}</th>
              <th>{t.common.actions}</th>
            </tr>
          </thead>
          <tbody>
            {locations.length === 0 ? (
              <tr>
                <td colSpan={6} className="muted">
                  {t.common.empty}
                </td>
              </tr>
            ) : null}
            {locations.map((l) => (
              <tr key={l.id}>
                <td>
                  <Ltr>{l.code}</Ltr>
                </td>
                <td>{l.nameFa}</td>
                <td>
                  <Ltr>{l.nameEn}</Ltr>
                </td>
                <td className="num">{fmt.number(l.panels)}</td>
                <td>
                  <StatusBadge status={l.active ? 'active' : 'disabled'} label={l.active ? t.common.active : t.common.inactive} />
                </td>
                <td>
                  <Link className="btn btn-small" to={`?edit=${l.id}`}>
                    {t.common.edit}
                  </Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Card title={t.locations.newLocation}>
        <LocationForm errors={errorsFor('create')} intent="create" />
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
