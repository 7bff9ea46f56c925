import { z } from 'zod'

/** The largest value of a Postgres `integer` (serial) column: every row id of flowpanel fits. */
export const MAX_ID = 2_147_483_647

/**
 * A row id as it arrives from outside (a route param, a form field, a query parameter, a CLI argument): ASCII
 * digits only, no sign, no fraction, no exponent, 1 to `MAX_ID`. Anything else is null, so a caller answers "not
 * found" or a field error instead of sending Postgres a number it refuses.
 */
export function parseId(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 && value <= MAX_ID ? value : null
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) return null
  const n = Number(value)
  return n > 0 && n <= MAX_ID ? n : null
}

/** A zod schema for an id given as a string (forms, params) or a number (JSON); `message` names the problem. */
export function idSchema(message = 'must be a positive whole number up to 2147483647') {
  return z.union([z.string(), z.number()], { errorMap: () => ({ message }) }).transform((value, ctx) => {
    const id = parseId(value)
    if (id === null) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message })
      return z.NEVER
    }
    return id
  })
}

/** The last page a list may be asked for; beyond it the offset would outgrow what Postgres accepts. */
export const MAX_PAGE = 100_000

/** A `?page=` value: digits from 1 to `MAX_PAGE`; anything else (missing, 0, 1e308, 2.5, -3) is page 1. */
export function parsePage(value: unknown): number {
  const n = parseId(value)
  return n !== null && n <= MAX_PAGE ? n : 1
}
