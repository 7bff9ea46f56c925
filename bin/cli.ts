import { parseId } from '#domain/ids.ts'
import { findTextProblem, TEXT_PROBLEM_MESSAGES, type TextKind } from '#domain/text.ts'

/**
 * A tiny command registry for `npm run cli -- <group> <command> [--flag value]...`.
 * Each module in bin/commands/ registers its commands; bin/flowpanel.ts dispatches.
 */
export type Flags = Record<string, string | boolean>

export interface CommandContext {
  /** Positional arguments after the command words. */
  args: string[]
  flags: Flags
  out: (line: string) => void
}

export interface Command {
  /** Words that select the command, e.g. ['panel', 'add']. */
  name: string[]
  usage: string
  summary: string
  /** Returns the process exit code. */
  run: (ctx: CommandContext) => Promise<number>
}

export class UsageError extends Error {}

export function parseArgv(argv: string[]): { words: string[]; flags: Flags } {
  const words: string[] = []
  const flags: Flags = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a.startsWith('--')) {
      const eq = a.indexOf('=')
      if (eq > 0) {
        flags[a.slice(2, eq)] = a.slice(eq + 1)
      } else {
        const next = argv[i + 1]
        if (next !== undefined && !next.startsWith('--')) {
          flags[a.slice(2)] = next
          i++
        } else {
          flags[a.slice(2)] = true
        }
      }
    } else {
      words.push(a)
    }
  }
  return { words, flags }
}

function checkText(name: string, value: string, kind: TextKind): string {
  const problem = findTextProblem(value, kind)
  if (problem) throw new UsageError(`--${name} ${TEXT_PROBLEM_MESSAGES[problem]}`)
  return value
}

/**
 * A flag's value, checked like every text that enters (domain/text.ts): control characters are refused (line
 * breaks and tabs only where `kind` is `multiLine`, the default), and `name` also refuses bidi overrides.
 */
export function requireFlag(flags: Flags, name: string, kind: TextKind = 'multiLine'): string {
  const v = flags[name]
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${name} is required`)
  return checkText(name, v, kind)
}

export function optionalFlag(flags: Flags, name: string, kind: TextKind = 'multiLine'): string | undefined {
  const v = flags[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new UsageError(`--${name} needs a value`)
  return checkText(name, v, kind)
}

/** A row id given on the command line (digits, 1 to 2147483647; see domain/ids.ts). */
export function idArg(value: string | undefined, what: string): number {
  const id = parseId(value)
  if (id === null) throw new UsageError(`${what} must be a positive whole number up to 2147483647${value === undefined ? '' : ` (got "${value}")`}`)
  return id
}
