/**
 * `npm run build:server [-- --out dist]`: the server as plain JavaScript, for an image that installs production
 * dependencies only (no tsx, no TypeScript at run time):
 *
 * 1. tsc (tsconfig.build.json) compiles the entry points, everything they import and the migrations into the same
 *    tree under the output directory, with `.ts` import paths rewritten to `.js`;
 * 2. a package.json there maps the `#db/*.ts`-style imports to the compiled files and marks them as ES modules;
 * 3. the workflow code is bundled once into `workflow-bundle.js` (as upstream's production sample does), which the
 *    worker loads instead of bundling at every start (worker/create-worker.ts).
 *
 * The Remix app is built separately: `FLOWPANEL_WEB_BUILD_DIR=<out>/web/build npm run build:web`.
 */
import { spawnSync } from 'node:child_process'
import fs from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { bundleWorkflowCode } from '@temporalio/worker'
import { WORKFLOWS_PATH } from '../worker/create-worker.ts'
import { parseArgv } from './cli.ts'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** `"#db/*": "./db/*"` of the repository becomes `"#db/*.ts": "./db/*.js"` for the compiled tree. */
export function compiledImports(imports: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(imports).map(([from, to]) => [`${from}.ts`, `${to}.js`]))
}

export async function buildServer(out: string): Promise<void> {
  await fs.rm(out, { recursive: true, force: true })
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(repo, 'tsconfig.build.json'), '--outDir', out], { cwd: repo, stdio: 'inherit' })
  if (compiled.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${compiled.status})`)

  const pkg = JSON.parse(await fs.readFile(path.join(repo, 'package.json'), 'utf8')) as { name: string; version: string; imports: Record<string, string> }
  const manifest = { name: `${pkg.name}-server`, version: pkg.version, private: true, type: 'module', imports: compiledImports(pkg.imports) }
  await fs.writeFile(path.join(out, 'package.json'), JSON.stringify(manifest, null, 2) + '\n')

  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH })
  await fs.writeFile(path.join(out, 'workflow-bundle.js'), code)
}

async function main(): Promise<void> {
  const { flags } = parseArgv(process.argv.slice(2))
  const out = path.resolve(repo, typeof flags.out === 'string' ? flags.out : 'dist')
  await buildServer(out)
  process.stdout.write(`server built into ${out} (run it with: node ${path.relative(process.cwd(), path.join(out, 'bin/start.js'))})\n`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((error: unknown) => {
    process.stderr.write(`build:server failed: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
