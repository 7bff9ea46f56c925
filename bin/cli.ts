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

export function requireFlag(flags: Flags, name: string): string {
  const v = flags[name]
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`--${name} is required`)
  return v
}

export function optionalFlag(flags: Flags, name: string): string | undefined {
  const v = flags[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new UsageError(`--${name} needs a value`)
  return v
}
