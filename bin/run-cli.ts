import { parseArgv, UsageError } from './cli.ts'
import { loadCommands } from './commands/index.ts'

export interface CliOutput {
  out: (text: string) => void
  err: (text: string) => void
}

/**
 * Runs one `npm run cli -- …` command line and returns its exit code: 0 done, 1 failed, 2 usage. bin/flowpanel.ts is
 * this with the process's stdout and stderr; tests call it in their own process.
 */
export async function runCli(argv: string[], io: CliOutput): Promise<number> {
  const { words, flags } = parseArgv(argv)
  const commands = await loadCommands()
  const match = commands
    .filter((c) => c.name.every((w, i) => words[i] === w))
    .sort((a, b) => b.name.length - a.name.length)[0]
  if (!match || flags.help) {
    const lines = commands.map((c) => `  ${c.usage.padEnd(70)} ${c.summary}`)
    io.out(`usage: npm run cli -- <command>\n\ncommands:\n${lines.join('\n')}\n`)
    return match || words.length === 0 ? 0 : 2
  }
  try {
    return await match.run({ args: words.slice(match.name.length), flags, out: (line) => io.out(line + '\n') })
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}\nusage: npm run cli -- ${match.usage}\n`)
      return 2
    }
    io.err(`error: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  }
}
