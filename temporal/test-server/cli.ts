import { startTestServer, type StartTestServerOptions } from './index.ts'

/**
 * Command line for the built-in Temporal server. Three forms:
 *
 *   cli.ts <port> [--enable-time-skipping] [--search-attribute Name=Type]...
 *       The SDK test-server contract (what `TestWorkflowEnvironment.createTimeSkipping` launches): listens on
 *       0.0.0.0:<port> with TestService; time skipping starts locked unless the flag is given.
 *   cli.ts dev [--port N] [--ip IP] [--namespace NS]... [--time-skipping] [--search-attribute Name=Type]...
 *       `npm run temporal:dev`: real time unless --time-skipping, prints one line with the address when ready.
 *   cli.ts server start-dev --port N [--ip IP] [--namespace NS] [--search-attribute Name=Type] [other dev-server flags]
 *       The CLI dev-server contract (what `TestWorkflowEnvironment.createLocal` launches): real time, no TestService.
 */
async function main(argv: string[]): Promise<void> {
  let options: StartTestServerOptions
  let announce = false
  if (argv[0] && /^\d+$/.test(argv[0])) {
    const flags = parseFlags(argv.slice(1))
    options = {
      port: Number(argv[0]),
      host: '0.0.0.0',
      timeSkipping: flags.has('enable-time-skipping') ? 'unlocked' : 'locked',
      searchAttributes: searchAttributes(flags),
    }
  } else if (argv[0] === 'dev') {
    const flags = parseFlags(argv.slice(1))
    options = {
      port: Number(first(flags, 'port') ?? 7233),
      host: first(flags, 'ip') ?? '127.0.0.1',
      namespaces: namespaces(flags),
      timeSkipping: flags.has('time-skipping') ? 'unlocked' : 'off',
      searchAttributes: searchAttributes(flags),
      longPollMs: 60_000,
    }
    announce = true
  } else if (argv[0] === 'server' && argv[1] === 'start-dev') {
    const flags = parseFlags(argv.slice(2))
    options = {
      port: Number(first(flags, 'port') ?? 7233),
      host: first(flags, 'ip') ?? '127.0.0.1',
      namespaces: namespaces(flags),
      timeSkipping: 'off',
      testService: false,
      searchAttributes: searchAttributes(flags),
      longPollMs: 60_000,
    }
  } else {
    process.stderr.write('usage: temporal-test-server <port> [--enable-time-skipping] | dev [--port N] [--time-skipping] | server start-dev --port N\n')
    process.exit(2)
  }

  const server = await startTestServer(options)
  if (announce) {
    const mode = options.timeSkipping === 'off' ? 'real time' : 'time skipping'
    process.stdout.write(`Temporal test server listening on ${server.address} (in memory, ${mode}; not for production)\n`)
  }
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

function parseFlags(args: string[]): Map<string, string[]> {
  const flags = new Map<string, string[]>()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (!arg.startsWith('--')) continue
    const eq = arg.indexOf('=')
    let name: string
    let value: string
    if (eq > 0) {
      name = arg.slice(2, eq)
      value = arg.slice(eq + 1)
    } else {
      name = arg.slice(2)
      const next = args[i + 1]
      value = next !== undefined && !next.startsWith('--') ? (i++, next) : ''
    }
    flags.set(name, [...(flags.get(name) ?? []), value])
  }
  return flags
}

function first(flags: Map<string, string[]>, name: string): string | undefined {
  return flags.get(name)?.[0]
}

function namespaces(flags: Map<string, string[]>): string[] {
  return [...new Set(['default', ...(flags.get('namespace') ?? [])])]
}

function searchAttributes(flags: Map<string, string[]>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const spec of flags.get('search-attribute') ?? []) {
    const [name, type] = spec.split('=')
    if (name && type) out[name] = type
  }
  return out
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`temporal-test-server failed to start: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})
