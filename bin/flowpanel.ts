#!/usr/bin/env -S npx tsx
import { runCli } from './run-cli.ts'

runCli(process.argv.slice(2), { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) }).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
