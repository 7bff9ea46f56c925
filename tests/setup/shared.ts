import { access, readFile } from 'node:fs/promises'
import path from 'node:path'

/**
 * Names of the environment variables through which tests/setup/global-setup.ts hands its once-per-run pieces to the
 * test processes. Each is unset when a test file runs outside `vitest run` (a benchmark, say): the helpers then make
 * their own.
 */
export const SHARED = {
  templateDatabase: 'FLOWPANEL_TEST_TEMPLATE_DATABASE',
  workflowBundle: 'FLOWPANEL_TEST_WORKFLOW_BUNDLE',
  webBuild: 'FLOWPANEL_TEST_WEB_BUILD',
} as const

/** The run's production web build, once it is ready (the global setup builds it in the background). */
export async function sharedWebBuild(timeoutMs = 300_000): Promise<string | undefined> {
  const dir = process.env[SHARED.webBuild]
  if (!dir) return undefined
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await exists(path.join(dir, '.ready'))) return dir
    if (await exists(path.join(dir, '.failed'))) throw new Error(`the production web build failed: ${await readFile(path.join(dir, '.failed'), 'utf8')}`)
    if (Date.now() > deadline) throw new Error(`the production web build in ${dir} did not finish within ${timeoutMs / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  )
}
