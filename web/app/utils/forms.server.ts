import type { AppLoadContext } from '@remix-run/node'
import { z } from 'zod'
import { parseId } from '#domain/ids.ts'
import { InvalidAmountError, parseMoney } from '#domain/money.ts'
import { findPasswordProblem } from '#domain/password.ts'
import { findTextProblem, refineText, type TextKind, type TextProblem } from '#domain/text.ts'
import type { Dictionary } from '~/i18n/index.ts'
import { assertCsrf } from './csrf.server.ts'
import { i18nFor } from './request.server.ts'

export type ErrorKey = keyof Dictionary['errors']
export type FieldErrors = Record<string, string>

const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data'])

/**
 * The body of a form post as FormData. A body of another Content-Type (JSON, text/plain, none) is refused
 * with 415 and one that cannot be read as a form (a multipart body without its boundary) with 400, each with a
 * sentence in the visitor's language, before any route code sees it.
 */
export async function readFormBody(request: Request, context: AppLoadContext): Promise<FormData> {
  const type = (request.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase()
  const plain = { 'Content-Type': 'text/plain; charset=utf-8' }
  if (!FORM_TYPES.has(type)) throw new Response(i18nFor(request, context).t.errors.unsupportedForm, { status: 415, headers: plain })
  try {
    return await request.formData()
  } catch {
    throw new Response(i18nFor(request, context).t.errors.unreadableForm, { status: 400, headers: plain })
  }
}

/** Reads a form and checks its CSRF token (403 without it). Every action starts here. */
export async function readForm(request: Request, context: AppLoadContext): Promise<FormData> {
  const form = await readFormBody(request, context)
  assertCsrf(request, form, context.env)
  return form
}

/** Form data as a plain object: repeated keys (checkbox groups) become arrays. Files are left out. */
export function formToObject(form: FormData): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const key of new Set(form.keys())) {
    const values = form.getAll(key).filter((v): v is string => typeof v === 'string')
    if (values.length === 1) out[key] = values[0]!
    else if (values.length > 1) out[key] = values
  }
  return out
}

export type ParseResult<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors }

/**
 * Validates a form with a zod schema whose messages are keys of the `errors` dictionary; the errors come
 * back translated, one per field (the first), keyed by field name. Issues without a path go under `form`.
 */
export function parseForm<S extends z.ZodTypeAny>(schema: S, form: FormData | Record<string, unknown>, t: Dictionary): ParseResult<z.output<S>> {
  const input = form instanceof FormData ? formToObject(form) : form
  const result = schema.safeParse(input)
  if (result.success) return { ok: true, data: result.data }
  return { ok: false, errors: translateIssues(result.error.issues, t) }
}

export function translateIssues(issues: z.ZodIssue[], t: Dictionary): FieldErrors {
  const errors: FieldErrors = {}
  for (const issue of issues) {
    const field = issue.path.length > 0 ? String(issue.path[0]) : 'form'
    if (errors[field]) continue
    errors[field] = translateError(issue.message, t)
  }
  return errors
}

export function translateError(message: string, t: Dictionary): string {
  return message in t.errors ? (t.errors[message as ErrorKey] as string) : message
}

const PERSIAN = '۰۱۲۳۴۵۶۷۸۹'
const ARABIC = '٠١٢٣٤٥٦٧٨٩'
/** Persian/Arabic digits to ASCII, so numbers typed on a Persian keyboard are accepted. */
export function asciiDigits(text: string): string {
  return text.replace(/[۰-۹٠-٩]/g, (d) => String(PERSIAN.includes(d) ? PERSIAN.indexOf(d) : ARABIC.indexOf(d)))
}

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v)

/** The text problems of domain/text.ts as keys of the `errors` dictionary. */
const TEXT_ERRORS: Record<TextProblem, 'controlCharacter' | 'bidiControl' | 'brokenText'> = { controlCharacter: 'controlCharacter', bidiControl: 'bidiControl', brokenText: 'brokenText' }

/**
 * A text query parameter (a search box, a filter), trimmed and cut to `max`; undefined when absent or blank. Text
 * with control characters or a broken character is answered with a 400 page that says so in the reader's language.
 */
export function queryText(url: URL, name: string, t: Dictionary, max = 100): string | undefined {
  const value = url.searchParams.get(name)?.trim()
  if (!value) return undefined
  const problem = findTextProblem(value, 'singleLine')
  if (problem) throw new Response(t.errors[TEXT_ERRORS[problem]], { status: 400, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
  return value.slice(0, max)
}

/** A form id: digits, 1 to 2147483647 (see domain/ids.ts); `invalid` otherwise. */
const formId = () =>
  z.string({ required_error: 'required', invalid_type_error: 'invalid' }).transform((value, ctx) => {
    const id = parseId(value)
    if (id === null) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'invalid' })
      return z.NEVER
    }
    return id
  })

/**
 * Field schemas whose messages are error keys. Text fields are checked by domain/text.ts: `name` (the default of
 * `text`) for names and labels, `singleLine` for reasons and notes, `multiLine` for text areas.
 */
export const f = {
  /** A password being set: the rule of domain/password.ts (length, common-password list). */
  newPassword: () =>
    z.string({ required_error: 'required', invalid_type_error: 'required' }).superRefine((value, ctx) => {
      const problem = findPasswordProblem(value)
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem })
    }),
  /** The text check alone, for a schema built by hand: `z.string().superRefine(f.textCheck('singleLine'))`. */
  textCheck: (kind: TextKind) => refineText(kind, TEXT_ERRORS),
  text: (max = 200, kind: TextKind = 'name') =>
    z
      .string({ required_error: 'required', invalid_type_error: 'required' })
      .trim()
      .min(1, 'required')
      .max(max, 'tooLong')
      .superRefine(refineText(kind, TEXT_ERRORS)),
  optionalText: (max = 500, kind: TextKind = 'singleLine') =>
    z
      .preprocess(blankToUndefined, z.string({ invalid_type_error: 'invalid' }).trim().max(max, 'tooLong').superRefine(refineText(kind, TEXT_ERRORS)).optional())
      .transform((v) => (v === undefined ? null : v)),
  int: ({ min = 0, max = 2_147_483_647 }: { min?: number; max?: number } = {}) =>
    z.preprocess(
      (v) => (typeof v === 'string' ? asciiDigits(v.trim().replace(/[,٬]/g, '')) : v),
      z
        .string({ required_error: 'required', invalid_type_error: 'required' })
        .min(1, 'required')
        .regex(/^-?\d+$/, 'notANumber')
        .transform(Number)
        .pipe(z.number().int('invalid').min(min, min > 0 ? 'mustBePositive' : 'mustBeZeroOrMore').max(max, 'invalid')),
    ),
  optionalInt: ({ min = 0, max = 2_147_483_647 }: { min?: number; max?: number } = {}) =>
    z
      .preprocess(
        (v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : asciiDigits(v.trim().replace(/[,٬]/g, ''))) : v),
        z
          .string()
          .regex(/^-?\d+$/, 'notANumber')
          .transform(Number)
          .pipe(z.number().int('invalid').min(min, min > 0 ? 'mustBePositive' : 'mustBeZeroOrMore').max(max, 'invalid'))
          .optional(),
      )
      .transform((v) => (v === undefined ? null : v)),
  /** An amount in minor units as bigint; `sign` restricts it. */
  money: (sign: 'positive' | 'nonNegative' | 'nonZero' = 'positive') =>
    z.string({ required_error: 'required', invalid_type_error: 'required' }).transform((text, ctx) => {
      if (text.trim() === '') {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'required' })
        return z.NEVER
      }
      let value: bigint
      try {
        value = parseMoney(text)
      } catch (error) {
        if (!(error instanceof InvalidAmountError)) throw error
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'invalidAmount' })
        return z.NEVER
      }
      if ((sign === 'positive' && value <= 0n) || (sign === 'nonZero' && value === 0n)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: sign === 'positive' ? 'mustBePositive' : 'invalidAmount' })
        return z.NEVER
      }
      if (sign === 'nonNegative' && value < 0n) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'mustBeZeroOrMore' })
        return z.NEVER
      }
      return value
    }),
  optionalMoney: () =>
    z.preprocess(blankToUndefined, f.money('nonNegative').optional()).transform((v) => (v === undefined ? null : v)),
  checkbox: () => z.preprocess((v) => v === 'on' || v === 'true' || v === '1', z.boolean()),
  idList: () =>
    z.preprocess(
      (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]),
      z.array(formId()),
    ),
  id: formId,
  url: () =>
    z
      .string({ required_error: 'required' })
      .trim()
      .min(1, 'required')
      .max(2000, 'tooLong')
      .superRefine(refineText('singleLine', TEXT_ERRORS))
      .refine((v) => {
        try {
          const u = new URL(v)
          return u.protocol === 'http:' || u.protocol === 'https:'
        } catch {
          return false
        }
      }, 'invalidUrl'),
}
