import { PanelError } from './errors.ts'

/**
 * Panel usernames are derived from the order, so a retried create always asks for the same name
 * and finds its own earlier attempt instead of making a second user.
 *
 * The rule is Marzban's, the stricter of the two panels (3X-UI accepts any email string): only
 * `[a-z0-9_]`, 3–32 characters, no `-`/`.`/`@` (Marzban's regex rejects names whose leading run of
 * word characters is shorter than 3). We stay lower-case because Marzban compares names
 * case-insensitively and 3X-UI emails are unique case-insensitively.
 */
export const USERNAME_PATTERN = /^[a-z0-9_]{3,32}$/

const PREFIX_PATTERN = /^[a-z0-9]{0,11}$/

export function isValidPanelUsername(username: string): boolean {
  return USERNAME_PATTERN.test(username)
}

export function assertValidPanelUsername(username: string): void {
  if (!isValidPanelUsername(username)) {
    throw new PanelError(
      'INVALID_INPUT',
      `panel username "${username}" is invalid: use 3 to 32 characters of a-z, 0-9 and underscore`,
    )
  }
}

/**
 * `fp` + optional prefix + `_` + order id, e.g. `fp_42` or `fpshop_42`. The prefix lets one panel
 * be shared by several flowpanel installations without their order ids colliding.
 */
export function usernameForOrder(orderId: number | string, prefix = ''): string {
  const id = String(orderId)
  if (!/^[0-9]+$/.test(id) || id.length > 18) throw new PanelError('INVALID_INPUT', `order id "${id}" must be a positive integer`)
  if (!PREFIX_PATTERN.test(prefix)) throw new PanelError('INVALID_INPUT', `username prefix "${prefix}" must be up to 11 characters of a-z and 0-9`)
  const username = `fp${prefix}_${id}`
  assertValidPanelUsername(username)
  return username
}

const MARKER_PATTERN = /flowpanel:order:([0-9]+)/

/** The ownership marker stored in the panel user's note (Marzban) or comment (3X-UI). */
export function ownerMarker(orderId: number | string): string {
  const id = String(orderId)
  if (!/^[0-9]+$/.test(id)) throw new PanelError('INVALID_INPUT', `order id "${id}" must be a positive integer`)
  return `flowpanel:order:${id}`
}

/** Finds the ownership marker in free text; null when the text has none. */
export function parseOwnerMarker(text: string | null | undefined): string | null {
  if (!text) return null
  const m = MARKER_PATTERN.exec(text)
  return m ? `flowpanel:order:${m[1]}` : null
}

/** Order id of a marker, or null. */
export function orderIdFromMarker(marker: string | null): number | null {
  const m = marker ? MARKER_PATTERN.exec(marker) : null
  return m ? Number(m[1]) : null
}

export function assertOwnerMarker(owner: string): void {
  if (parseOwnerMarker(owner) !== owner) {
    throw new PanelError('INVALID_INPUT', `owner "${owner}" is not an ownership marker (build it with ownerMarker(orderId))`)
  }
}
