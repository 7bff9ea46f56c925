import type { AppLoadContext } from '@remix-run/node'
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

/** `?page=` as a positive integer (1 when missing or bad). */
export function pageParam(url: URL): number {
  const n = Number(url.searchParams.get('page'))
  return Number.isInteger(n) && n > 0 ? n : 1
}

/** A route param that must be a positive integer id; 404 otherwise. */
export function idParam(value: string | undefined): number {
  const n = Number(value)
  if (!value || !/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new Response('Not found', { status: 404 })
  return n
}
