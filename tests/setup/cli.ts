import { runCli } from '../../bin/run-cli.ts'

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs an admin CLI command line in this process (`runCli`, what bin/flowpanel.ts runs), with `env` set in
 * process.env for the duration of the call and what it prints captured. Use it where a test is about a command's
 * logic; keep a subprocess test where it is about the real entry point. Calls must not overlap.
 */
export async function cliInProcess(argv: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const saved = new Map(Object.keys(env).map((key) => [key, process.env[key]]))
  Object.assign(process.env, env)
  let stdout = ''
  let stderr = ''
  const write = process.stderr.write.bind(process.stderr)
  // Some commands report on stderr themselves.
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk)
    return true
  }) as typeof process.stderr.write
  try {
    const code = await runCli(argv, { out: (text) => (stdout += text), err: (text) => (stderr += text) })
    return { code, stdout, stderr }
  } finally {
    process.stderr.write = write
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
}
