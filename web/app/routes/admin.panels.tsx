import { data, redirect, type ActionFunctionArgs, type LoaderFunctionArgs } from '@remix-run/node'
import { Link, useActionData, useLoaderData, useSearchParams } from '@remix-run/react'
import { z } from 'zod'
import { isPanelError } from '#activities/panels/errors.ts'
import type { PanelHealth } from '#activities/panels/types.ts'
import { addPanel, getPanelById, listPanels, PanelCheckFailedError, updateHealth, type PanelWithLoad } from '#db/panels.ts'
import { listLocations } from '#db/web-catalog.ts'
import { panelUsername, setPanelActive, updatePanel } from '#db/web-panels.ts'
import { findTextProblem } from '#domain/text.ts'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { Checkbox, Field, Notice, PostForm, Select, SubmitButton, TextArea } from '~/components/forms.tsx'
import { Card, Ltr, PageHeader, StatusBadge } from '~/components/page.tsx'
import { adminAction, idParam } from '~/utils/admin.server.ts'
import { audit } from '~/utils/audit.server.ts'
import { requireAdmin } from '~/utils/auth.server.ts'
import { f, parseForm } from '~/utils/forms.server.ts'
import type { Dictionary } from '~/i18n/en.ts'
import { getErrorMessage } from '~/utils/misc.ts'
import { withPanel } from '~/utils/panels.server.ts'
import { useI18n } from '~/utils/root-data.ts'

/** Every key and string inside a JSON value, so text Postgres refuses in jsonb (an escaped NUL) is found. */
function jsonTexts(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(jsonTexts)
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...jsonTexts(v)])
  return []
}

const jsonObject = z
  .string()
  .max(20_000, 'tooLong')
  .transform((text, ctx) => {
    if (text.trim() === '') return {}
    try {
      const value: unknown = JSON.parse(text)
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const problem = jsonTexts(value).map((t) => findTextProblem(t, 'singleLine')).find((p) => p !== null)
        if (!problem) return value as Record<string, unknown>
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem })
        return z.NEVER
      }
    } catch {}
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'invalidJson' })
    return z.NEVER
  })

const PanelFormSchema = z.object({
  name: f.text(63).pipe(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'invalid')),
  type: z.enum(['marzban', '3x-ui'], { errorMap: () => ({ message: 'chooseOne' }) }),
  baseUrl: f.url(),
  username: f.text(120),
  password: z.preprocess((v) => (v === '' ? undefined : v), z.string().max(200, 'tooLong').optional()),
  proxyUrl: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), f.url().optional()),
  locationId: f.id(),
  capacity: f.int({ min: 0, max: 10_000_000 }),
  settings: jsonObject,
  active: f.checkbox(),
  saveAnyway: f.checkbox(),
})

/** How long the connection check of a save may take per request to the panel. */
const SAVE_CHECK_TIMEOUT_MS = 8_000

/** Why a probe failed, in the reader's language (the adapter's own message is English and names the URL). */
function panelProblem(t: Dictionary, health: PanelHealth): string {
  const code = health.error?.code ?? (health.reachable ? 'other' : 'PANEL_UNREACHABLE')
  return code in t.panels.problems ? t.panels.problems[code as keyof Dictionary['panels']['problems']] : t.panels.problems.other
}

export async function loader({ request, context }: LoaderFunctionArgs) {
  await requireAdmin(request, context)
  const [panels, locations] = await Promise.all([listPanels(context.db), listLocations(context.db)])
  const url = new URL(request.url)
  const editing = panels.find((p) => String(p.id) === url.searchParams.get('edit'))
  return {
    // Credentials never leave the server: the list carries no ciphertext, the edit form only the username.
    panels: panels.map(({ credentialsEncrypted: _c, ...p }) => p),
    locations,
    editUsername: editing ? panelUsername(editing, context.env.APP_SECRET) : null,
  }
}

type Result = {
  ok: boolean
  message?: string
  errors?: Record<string, string>
  form?: string
  /** The form's connection check failed: the form shows why and offers "save anyway". */
  checkFailed?: string
  /** Saved, with something the admin should know (a panel saved anyway). */
  warning?: boolean
}

export async function action({ request, context }: ActionFunctionArgs) {
  const { user, form, intent, t } = await adminAction(request, context)
  const id = form.get('id') ? idParam(form.get('id')) : null

  if (intent === 'test') {
    const panel = id ? await getPanelById(context.db, id) : undefined
    if (!panel) throw new Response('Not found', { status: 404 })
    let health
    try {
      health = await withPanel(context, panel, (adapter) => adapter.health())
    } catch (error) {
      return data<Result>({ ok: false, message: t.panels.testFailed(getErrorMessage(error)) })
    }
    await updateHealth(context.db, panel.id, health)
    await audit(request, context, user.id, 'panel.test', { type: 'panel', id: panel.id }, { ok: health.ok, reachable: health.reachable, version: health.version })
    return data<Result>(
      health.ok
        ? { ok: true, message: t.panels.testOk(health.version ?? '?') }
        : { ok: false, message: t.panels.testFailed(panelProblem(t, health)) },
    )
  }
  if (intent !== 'create' && intent !== 'update') throw new Response(`Unknown intent ${intent}`, { status: 400 })
  const formName = intent === 'create' ? 'create' : `edit-${id}`
  const parsed = parseForm(PanelFormSchema, form, t)
  if (!parsed.ok) return data<Result>({ ok: false, errors: parsed.errors, form: formName }, { status: 400 })
  const input = parsed.data
  if (intent === 'create' && !input.password) return data<Result>({ ok: false, errors: { password: t.errors.required }, form: formName }, { status: 400 })
  if (!(await listLocations(context.db)).some((l) => l.id === input.locationId)) {
    return data<Result>({ ok: false, errors: { locationId: t.errors.chooseOne }, form: formName }, { status: 400 })
  }
  const detail = { name: input.name, type: input.type, baseUrl: input.baseUrl, proxyUrl: input.proxyUrl ?? null, locationId: input.locationId, capacity: input.capacity, active: input.active }
  // Every save logs in with the credentials being saved; a failing panel is saved only when the admin says so.
  const check = { saveAnyway: input.saveAnyway, timeoutMs: SAVE_CHECK_TIMEOUT_MS }
  const checked = (probe: PanelHealth | undefined) => ({ checkOk: probe?.ok ?? null, checkError: probe?.error?.code ?? null, savedAnyway: probe ? !probe.ok : false })
  try {
    if (intent === 'create') {
      const panel = await addPanel(context.db, context.env.APP_SECRET, { ...input, password: input.password!, proxyUrl: input.proxyUrl ?? null }, check)
      if (!input.active) await setPanelActive(context.db, panel.id, false)
      await audit(request, context, user.id, 'panel.create', { type: 'panel', id: panel.id }, { ...detail, ...checked(panel.probe) })
      if (panel.probe && !panel.probe.ok) return data<Result>({ ok: true, warning: true, message: t.panels.savedAnyway(panelProblem(t, panel.probe)) })
      return data<Result>({ ok: true, message: input.active ? t.panels.createdConnected : t.panels.created })
    }
    const current = id ? await getPanelById(context.db, id) : undefined
    if (!current) throw new Response('Not found', { status: 404 })
    const updated = await updatePanel(context.db, context.env.APP_SECRET, current.id, { ...input, password: input.password ?? null, proxyUrl: input.proxyUrl ?? null }, check)
    if (!updated) throw new Response('Not found', { status: 404 })
    await audit(request, context, user.id, 'panel.update', { type: 'panel', id }, { ...detail, passwordChanged: Boolean(input.password), ...checked(updated.probe) })
    return redirect('/admin/panels?notice=updated')
  } catch (error) {
    if (error instanceof PanelCheckFailedError) {
      return data<Result>({ ok: false, form: formName, checkFailed: t.panels.notSaved(panelProblem(t, error.health)) }, { status: 400 })
    }
    if (isPanelError(error)) {
      const field = /already exists/.test(error.message) ? 'name' : /settings/.test(error.message) ? 'settings' : /proxy/i.test(error.message) ? 'proxyUrl' : 'baseUrl'
      const message = field === 'name' ? t.errors.nameTaken : `${t.errors.invalid} ${error.message}`
      return data<Result>({ ok: false, errors: { [field]: message }, form: formName }, { status: 400 })
    }
    throw error
  }
}

type PanelView = Omit<PanelWithLoad, 'credentialsEncrypted'>

function PanelForm({
  panel,
  username,
  errors,
  checkFailed,
  locations,
  intent,
}: {
  panel?: PanelView
  username?: string | null
  errors: Record<string, string>
  checkFailed?: string
  locations: { id: number; nameFa: string; nameEn: string }[]
  intent: 'create' | 'update'
}) {
  const { t, locale } = useI18n()
  return (
    <PostForm>
      {panel ? <input type="hidden" name="id" value={panel.id} /> : null}
      <div className="form-grid">
        <Field label={t.common.name} name="name" dir="ltr" defaultValue={panel?.name} required error={errors.name} />
        <Select
          label={t.panels.type}
          name="type"
          defaultValue={panel?.type ?? 'marzban'}
          options={[
            { value: 'marzban', label: 'Marzban' },
            { value: '3x-ui', label: '3X-UI' },
          ]}
          error={errors.type}
        />
        <Field label={t.panels.baseUrl} name="baseUrl" type="url" dir="ltr" defaultValue={panel?.baseUrl} required error={errors.baseUrl} />
        <Select
          label={t.panels.location}
          name="locationId"
          defaultValue={panel ? String(panel.locationId) : undefined}
          options={locations.map((l) => ({ value: String(l.id), label: locale === 'fa' ? l.nameFa : l.nameEn }))}
          error={errors.locationId}
        />
        <Field label={t.panels.panelUsername} name="username" dir="ltr" autoComplete="off" defaultValue={username} required error={errors.username} />
        <Field
          label={t.panels.panelPassword}
          name="password"
          type="password"
          dir="ltr"
          autoComplete="new-password"
          required={!panel}
          hint={panel ? t.panels.panelPasswordKeep : undefined}
          error={errors.password}
        />
        <Field label={t.panels.proxyUrl} name="proxyUrl" dir="ltr" defaultValue={panel?.proxyUrl} placeholder="http://user:pass@host:port" error={errors.proxyUrl} />
        <Field label={t.panels.capacity} name="capacity" inputMode="numeric" defaultValue={panel?.capacity ?? 1000} required error={errors.capacity} />
        <div className="wide">
          <TextArea label={t.panels.settings} name="settings" dir="ltr" defaultValue={JSON.stringify(panel?.settings ?? {}, null, 2)} error={errors.settings} rows={4} />
        </div>
        <Checkbox label={t.common.active} name="active" defaultChecked={panel?.active ?? true} />
      </div>
      {checkFailed ? (
        <div data-testid="panel-check-failed">
          <Notice kind="error">{checkFailed}</Notice>
          <Checkbox label={t.panels.saveAnyway} name="saveAnyway" />
          <p className="muted">{t.panels.saveAnywayHint}</p>
        </div>
      ) : null}
      <div className="form-actions">
        <SubmitButton value={intent}>{intent === 'create' ? t.common.create : t.common.save}</SubmitButton>
        {panel ? (
          <Link to="/admin/panels" className="btn">
            {t.common.cancel}
          </Link>
        ) : null}
      </div>
    </PostForm>
  )
}

export default function Panels() {
  const { panels, locations, editUsername } = useLoaderData<typeof loader>()
  const actionData = useActionData<typeof action>()
  const [params] = useSearchParams()
  const { t, fmt } = useI18n()
  const editing = panels.find((p) => String(p.id) === params.get('edit'))
  const errorsFor = (name: string): Record<string, string> => (actionData?.form === name ? (actionData.errors ?? {}) : {})
  const checkFailedFor = (name: string): string | undefined => (actionData?.form === name ? actionData.checkFailed : undefined)
  return (
    <>
      <PageHeader title={t.panels.title} />
      {actionData?.message ? <Notice kind={actionData.warning ? 'warning' : actionData.ok ? 'success' : 'error'}>{actionData.message}</Notice> : null}
      {params.get('notice') === 'updated' && !actionData ? <Notice kind="success">{t.panels.updated}</Notice> : null}
      {editing ? (
        <Card title={t.panels.editPanel}>
          <PanelForm key={editing.id} panel={editing} username={editUsername} errors={errorsFor(`edit-${editing.id}`)} checkFailed={checkFailedFor(`edit-${editing.id}`)} locations={locations} intent="update" />
        </Card>
      ) : null}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th>{t.common.name}</th>
              <th>{t.panels.type}</th>
              <th>{t.panels.baseUrl}</th>
              <th>{t.panels.location}</th>
              <th className="num">{t.panels.capacity}</th>
              <th>{t.panels.health}</th>
              <th>{t.common.actions}</th>
            </tr>
          </thead>
          <tbody>
            {panels.length === 0 ? (
              <tr>
                <td colSpan={7} className="muted">
                  {t.dashboard.noPanels}
                </td>
              </tr>
            ) : null}
            {panels.map((p) => (
              <tr key={p.id} data-testid={`panel-${p.id}`}>
                <td>
                  <Ltr>{p.name}</Ltr> {p.active ? null : <StatusBadge status="disabled" label={t.common.inactive} />}
                </td>
                <td>{p.type}</td>
                <td>
                  <Ltr>{p.baseUrl}</Ltr>
                </td>
                <td>
                  <Ltr>{p.locationCode}</Ltr>
                </td>
                <td className="num">
                  {fmt.number(p.activeAccounts)} / {fmt.number(p.capacity)}
                </td>
                <td>
                  <StatusBadge status={p.healthStatus} label={t.panels.healthStatuses[p.healthStatus]} />
                  {p.version ? <div className="muted">{p.version}</div> : null}
                  {p.healthDetail ? <div className="muted">{p.healthDetail}</div> : null}
                  {p.healthCheckedAt ? <div className="muted">{fmt.dateTime(p.healthCheckedAt)}</div> : null}
                </td>
                <td>
                  <div className="inline-form">
                    <Link className="btn btn-small" to={`?edit=${p.id}`}>
                      {t.common.edit}
                    </Link>
                    <PostForm className="inline-form">
                      <input type="hidden" name="id" value={p.id} />
                      <SubmitButton value="test" className="btn btn-small">
                        {t.panels.testConnection}
                      </SubmitButton>
                    </PostForm>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Card title={t.panels.newPanel}>
        <PanelForm errors={errorsFor('create')} checkFailed={checkFailedFor('create')} locations={locations} intent="create" />
      </Card>
    </>
  )
}

export function ErrorBoundary() {
  return <GeneralErrorBoundary />
}
