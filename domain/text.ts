import { z } from 'zod'

/**
 * Text that enters flowpanel (web forms, the reseller API, the bot, the CLI, service inputs) is checked here,
 * before anything is written or any panel is changed. Postgres refuses NUL in text columns; the other C0
 * control characters, DEL and the C1 controls are invisible and break logs, CSV exports and Telegram messages;
 * the bidi embedding, override and isolate characters make a name or label read differently from what it is.
 *
 * - `singleLine`: a label, a reason, a search: no control character at all (a tab neither).
 * - `multiLine`: a note or an address: newlines (LF, CR) and tabs are allowed, nothing else.
 * - `name`: a name shown to other people (plan, agent, location, panel, token, account label): `singleLine`, and no
 *   bidi override or isolate characters. The marks U+200E/U+200F and the zero-width non-joiner of Persian stay allowed.
 */
export type TextKind = 'singleLine' | 'multiLine' | 'name'

export type TextProblem = 'controlCharacter' | 'bidiControl' | 'brokenText'

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_SINGLE = /[\u0000-\u001f\u007f-\u009f]/
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_MULTI = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** What is wrong with `value` as text of `kind`, or null when nothing is. Pure; used by every boundary. */
export function findTextProblem(value: string, kind: TextKind = 'singleLine'): TextProblem | null {
  if ((kind === 'multiLine' ? CONTROL_MULTI : CONTROL_SINGLE).test(value)) return 'controlCharacter'
  if (LONE_SURROGATE.test(value)) return 'brokenText'
  if (kind === 'name' && BIDI_CONTROL.test(value)) return 'bidiControl'
  return null
}

/** English sentences for the problems, for the API, the CLI and service errors. The web app and the bot translate the codes. */
export const TEXT_PROBLEM_MESSAGES: Record<TextProblem, string> = {
  controlCharacter: 'must not contain control characters (such as NUL, or a line break where only one line is expected)',
  bidiControl: 'must not contain Unicode direction override characters (U+202A to U+202E, U+2066 to U+2069)',
  brokenText: 'is not valid text (it contains a broken UTF-16 surrogate)',
}

/**
 * A zod refinement for a string field: adds one issue whose message is `messages[problem]`. Forms pass
 * their error keys as messages; everything else gets the English sentences.
 */
export function refineText(kind: TextKind, messages: Record<TextProblem, string> = TEXT_PROBLEM_MESSAGES) {
  return (value: string, ctx: z.RefinementCtx): void => {
    const problem = findTextProblem(value, kind)
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: messages[problem], params: { textProblem: problem } })
  }
}

export interface TextOptions {
  /** Least length after trimming; 0 allows the empty string. */
  min?: number
  max: number
  messages?: Record<TextProblem, string>
}

function textSchema(kind: TextKind, { min = 1, max, messages }: TextOptions) {
  return z
    .string()
    .trim()
    .min(min)
    .max(max)
    .superRefine(refineText(kind, messages))
}

/** One line of text, trimmed, `min` (default 1) to `max` characters, no control characters. */
export const singleLineText = (options: TextOptions) => textSchema('singleLine', options)
/** Text that may span lines (LF, CR, tab), trimmed, no other control characters. */
export const multiLineText = (options: TextOptions) => textSchema('multiLine', options)
/** A name or label shown to others: one line, no control or bidi override characters. */
export const nameText = (options: TextOptions) => textSchema('name', options)

export class InvalidTextError extends Error {
  override readonly name = 'InvalidTextError'
  constructor(
    readonly field: string,
    readonly problem: TextProblem,
  ) {
    super(`${field} ${TEXT_PROBLEM_MESSAGES[problem]}`)
  }
}

/** Throws an `InvalidTextError` naming `field` when `value` is not acceptable text of `kind`. */
export function assertText(field: string, value: string, kind: TextKind = 'singleLine'): void {
  const problem = findTextProblem(value, kind)
  if (problem) throw new InvalidTextError(field, problem)
}

/**
 * Text that Postgres stores as given: NUL and the other control characters (but LF and tab) become U+FFFD and
 * broken surrogates are repaired. Only for text made after a side effect, where refusing would strand the work
 * (a ledger note after a panel user was deleted, a failure reason from a panel); everything that enters is
 * refused at the boundary instead.
 */
export function storableText(value: string): string {
  // eslint-disable-next-line no-control-regex -- replacing control characters is the point
  return value.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '\ufffd').replace(new RegExp(LONE_SURROGATE.source, 'g'), '\ufffd')
}

/**
 * A name from the outside world that cannot be sent back for correction (a Telegram first and last name): control
 * and bidi override characters are dropped, broken surrogates repaired, spaces collapsed.
 */
export function cleanForeignName(value: string): string {
  // eslint-disable-next-line no-control-regex -- dropping control characters is the point
  return storableText(value.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ''))
    .replace(/\s+/g, ' ')
    .trim()
}
