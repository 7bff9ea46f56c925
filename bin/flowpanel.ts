#!/usr/bin/env -S npx tsx
import { parseArgv, UsageError } from './cli.ts'
import { loadCommands } from './commands/index.ts'

async function main(): Promise<number> {
  const { words, flags } = parseArgv(process.argv.slice(2))
  const commands = await loadCommands()
  const match = commands
    .filter((c) => c.name.every((w, i) => words[i] === w))
    .sort((a, b) => b.name.length - a.name.length)[0]
  if (!match || flags.help) {
    const lines = commands.map((c) => `  ${c.usage.padEnd(70)} ${c.summary}`)
    process.stdout.write(`usage: npm run cli -- <command>\n\ncommands:\n${lines.join('\n')}\n`)
    return match || words.length === 0 ? 0 : 2
  }
  try {
    return await match.run({ args: words.slice(match.name.length), flags, out: (line) => process.stdout.write(line + '\n') })
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\nusage: npm run cli -- ${match.usage}\n`)
      return 2
    }
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
