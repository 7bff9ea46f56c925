import { fileURLToPath } from 'node:url'
import { TestWorkflowEnvironment } from '@temporalio/testing'

/** The launcher of the built-in Temporal test server (follows the SDK test-server contract). */
export const TEST_SERVER_LAUNCHER = fileURLToPath(new URL('../../temporal/test-server/bin/temporal-test-server.mjs', import.meta.url))

export type TestEnvKind = 'built-in' | 'test-server-binary' | 'cli-dev-server' | 'existing'

/** Which server `createTestEnv()` will use, from the environment. */
export function testEnvKind(env: NodeJS.ProcessEnv = process.env): TestEnvKind {
  if (env.TEMPORAL_ADDRESS) return 'existing'
  if (env.TEMPORAL_TEST_SERVER_PATH) return 'test-server-binary'
  if (env.TEMPORAL_CLI_PATH) return 'cli-dev-server'
  return 'built-in'
}

export interface CreateTestEnvOptions {
  /** Custom search attributes to register on a launched server, name → type (Keyword, Text, Int, Double, Bool, Datetime, KeywordList). */
  searchAttributes?: Record<string, 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList'>
}

/**
 * Creates the Temporal environment for a workflow test file: call it once in `beforeAll`, and `teardown()` in `afterAll`.
 *
 * - By default it is `TestWorkflowEnvironment.createTimeSkipping` pointed at our built-in server, which it launches as a
 *   child process (one per test file, since time skipping is global to a server).
 * - `TEMPORAL_ADDRESS=host:port` (and optionally `TEMPORAL_NAMESPACE`) uses a running server instead
 *   (`createFromExistingServer`, no time skipping: `env.sleep` really sleeps).
 * - `TEMPORAL_TEST_SERVER_PATH` launches that Java test server binary with time skipping; `TEMPORAL_CLI_PATH` launches
 *   `temporal server start-dev` from that CLI binary (`createLocal`, no time skipping).
 *
 * `searchAttributes` registers custom search attributes on launched servers (a running server must already have them).
 * Nothing is downloaded and nothing is written to the SDK's download cache.
 *
 * @example
 * let env: TestWorkflowEnvironment
 * beforeAll(async () => { env = await createTestEnv() })
 * afterAll(async () => { await env?.teardown() })
 * test('...', async () => {
 *   const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath, activities })
 *   const result = await worker.runUntil(env.client.workflow.execute(myWorkflow, { taskQueue, workflowId, args }))
 * })
 */
export async function createTestEnv(options: CreateTestEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  const env = process.env
  const extraArgs = Object.entries(options.searchAttributes ?? {}).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`])
  switch (testEnvKind(env)) {
    case 'existing':
      return await TestWorkflowEnvironment.createFromExistingServer({ address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE ?? 'default' })
    case 'test-server-binary':
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: env.TEMPORAL_TEST_SERVER_PATH! } },
      })
    case 'cli-dev-server':
      return await TestWorkflowEnvironment.createLocal({
        server: { executable: { type: 'existing-path', path: env.TEMPORAL_CLI_PATH! }, extraArgs },
      })
    case 'built-in':
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: { type: 'existing-path', path: TEST_SERVER_LAUNCHER }, extraArgs },
      })
  }
}
