import type { AppLoadContext } from '@remix-run/node'
import { parseId, parsePage } from '#domain/ids.ts'
import { requireAdmin } from './auth.server.ts'
import { readForm } from './forms.server.ts'
import { i18nFor } from './request.server.ts'

/**
 * The start of every admin action: the role check first (others get 403 or the sign-in redirect), then the
 * CSRF check, then the admin's dictionary for messages.
 */
export async function adminAction(request: Request, context: AppLoadContext) {
  const user = await requireAdmin(request, context)
  const form = await readForm(request, context)
  return { user, form, intent: String(form.get('intent') ?? ''), ...i18nFor(request, context, user) }
}

/** `?page=` as a page number (1 when missing or bad; see domain/ids.ts). */
export function pageParam(url: URL): number {
  return parsePage(url.searchParams.get('page'))
}

/** A route param or form field that must be a row id (digits, 1 to 2147483647); 404 otherwise. */
export function idParam(value: unknown): number {
  const id = parseId(value)
  if (id === null) throw new Response('Not found', { status: 404 })
  return id
}
