import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { TestProject } from 'vitest/node'
import { createTemplateDatabase, dropDatabase, dropStaleTestDatabases } from './database.ts'
import { SHARED } from './shared.ts'

/**
 * Work done once per `vitest run` and shared by every test file (each file runs in a process of its own):
 * - the migrated template database that `createTestDatabase` clones;
 * - flowpanel's workflow bundle, written to a file the test workers load;
 * - the production web build the browser tests serve, made in the background while other files run.
 * They reach the test processes through environment variables (`SHARED` in ./shared.ts), which the test processes
 * inherit. Projects inherit this file from the root config, so it is called once per project; each piece is made
 * once per run (kept on `globalThis` of the main process).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

interface RunShared {
  cleanups: (() => Promise<void>)[]
  pieces: Map<string, Promise<string>>
  stale?: Promise<void>
}
const run: RunShared = ((globalThis as { __flowpanelTestRun?: RunShared }).__flowpanelTestRun ??= { cleanups: [], pieces: new Map() })

function once(key: string, make: () => Promise<string>, cleanup: (value: string) => Promise<void>): Promise<string> {
  let piece = run.pieces.get(key)
  if (!piece) {
    piece = make().then((value) => {
      run.cleanups.push(() => cleanup(value))
      return value
    })
    run.pieces.set(key, piece)
  }
  return piece
}

async function bundleWorkflows(): Promise<string> {
  // Imported here, so a run of the unit project alone never loads the worker package.
  const { bundleWorkflowCode } = await import('@temporalio/worker')
  const { WORKFLOWS_PATH } = await import('../../worker/create-worker.ts')
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (message: string, meta?: unknown) => console.warn(message, meta) }
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet })
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fp-workflow-bundle-'))
  const file = path.join(dir, 'workflow-bundle.js')
  await writeFile(file, code)
  return file
}

/**
 * Starts the production build into a directory inside the repository (under test-artifacts/, so its server bundle
 * resolves packages) and returns the directory at once; `.ready` or `.failed` appears in it when the build ends.
 */
async function startWebBuild(): Promise<string> {
  const artifacts = path.join(ROOT, 'test-artifacts')
  await mkdir(artifacts, { recursive: true })
  const dir = await mkdtemp(path.join(artifacts, '.web-build-'))
  promisify(execFile)('npx', ['remix', 'vite:build', '--config', 'web/vite.config.ts', '--logLevel', 'error'], {
    cwd: ROOT,
    maxBuffer: 1 << 24,
    env: { ...process.env, FLOWPANEL_WEB_BUILD_DIR: dir },
  }).then(
    () => writeFile(path.join(dir, '.ready'), ''),
    (error: unknown) => writeFile(path.join(dir, '.failed'), error instanceof Error ? `${error.message}` : String(error)),
  )
  return dir
}

export default async function globalSetup(project: TestProject): Promise<() => Promise<void>> {
  if (project.name !== 'unit') {
    run.stale ??= dropStaleTestDatabases()
    await run.stale
    const [template, bundle] = await Promise.all([
      once('template', createTemplateDatabase, dropDatabase),
      once('bundle', bundleWorkflows, (file) => rm(path.dirname(file), { recursive: true, force: true })),
    ])
    process.env[SHARED.templateDatabase] = template
    process.env[SHARED.workflowBundle] = bundle
  }
  if (project.name === 'e2e') {
    process.env[SHARED.webBuild] = await once('web-build', startWebBuild, (dir) => rm(dir, { recursive: true, force: true }))
  }
  return async () => {
    const cleanups = run.cleanups.splice(0)
    await Promise.allSettled(cleanups.map((cleanup) => cleanup()))
  }
}
