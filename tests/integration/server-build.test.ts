import { execFile } from 'node:child_process'
import { builtinModules } from 'node:module'
import fs from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import knexFactory from 'knex'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildServer } from '../../bin/build-server.ts'
import { createDb } from '#db/knex.ts'
import { TEST_PG_URL } from '#tests/setup/database.ts'

/**
 * The compiled server the image runs (npm run build:server, Dockerfile): it imports production dependencies only,
 * runs on plain node without tsx, migrates under the same names as the TypeScript sources, and the worker finds the
 * prebuilt workflow bundle. The Dockerfile installs exactly that: production dependencies and dist/.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const exec = promisify(execFile)
// Inside the repository, so that node_modules resolves as it does in the image's /app.
const out = path.join(repo, 'test-artifacts', `server-build-${process.pid}`)
const database = `imgtest_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
const pkg = JSON.parse(await fs.readFile(path.join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> }

async function jsFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile() && e.name.endsWith('.js')).map((e) => path.join(e.parentPath, e.name))
}

/** The package a bare import specifier names (`@scope/name/sub` → `@scope/name`), or undefined for relative, `#`, builtin. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('#') || specifier.startsWith('node:')) return undefined
  const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!
  return builtinModules.includes(name) ? undefined : name
}

beforeAll(async () => {
  await buildServer(out)
}, 240_000)

afterAll(async () => {
  await fs.rm(out, { recursive: true, force: true })
  const admin = knexFactory({ client: 'pg', connection: TEST_PG_URL, pool: { min: 0, max: 1 } })
  try {
    await admin.raw(`drop database if exists "${database}" with (force)`)
  } finally {
    await admin.destroy()
  }
})

describe('the compiled server of the image', () => {
  it('imports production dependencies only (Vite only on the development path of web/server.js)', async () => {
    const used = new Map<string, Set<string>>()
    for (const file of [...(await jsFiles(out)).filter((f) => !f.endsWith('workflow-bundle.js'))]) {
      const text = await fs.readFile(file, 'utf8')
      for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const name = packageOf(m[1] ?? m[2]!)
        if (name) used.set(name, (used.get(name) ?? new Set()).add(path.relative(out, file)))
      }
    }
    expect(used.size).toBeGreaterThan(10)
    const notProduction = [...used.keys()].filter((name) => !(name in pkg.dependencies))
    expect(notProduction).toEqual(['vite'])
    expect([...used.get('vite')!]).toEqual(['web/server.js'])
    expect(await fs.readFile(path.join(out, 'web/server.js'), 'utf8')).toMatch(/if \(mode === 'development'\) \{\s+const \{ createServer \} = await import\('vite'\)/)
  })

  it('runs with plain node: migrate-only records the migrations under their .ts names', async () => {
    const url = new URL(TEST_PG_URL)
    url.pathname = `/${database}`
    const env = { PATH: process.env.PATH, NODE_ENV: 'test', APP_SECRET: 'c'.repeat(64), DATABASE_URL: url.toString(), FLOWPANEL_DATA_DIR: path.join(out, 'data') }
    // The same command as docker-compose.yml's migrate service, from the directory the image runs in.
    const result = await exec(process.execPath, [path.join(out, 'bin/start.js'), '--migrate-only'], { cwd: repo, env: env as NodeJS.ProcessEnv })
    expect(result.stdout).toMatch(/"event":"migrations","applied":\d+/)
    const sources = (await fs.readdir(path.join(repo, 'migrations'))).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).sort()
    const db = createDb(url.toString())
    try {
      expect(await db('knex_migrations').orderBy('id').pluck('name')).toEqual(sources)
    } finally {
      await db.destroy()
    }
  })

  it('ships the workflow bundle where the compiled worker looks for it, and a CLI that runs', async () => {
    const script = `import(${JSON.stringify(path.join(out, 'worker/create-worker.js'))}).then((m) => console.log(JSON.stringify([m.PREBUILT_WORKFLOW_BUNDLE, m.WORKFLOWS_PATH])))`
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script], { cwd: repo, env: { PATH: process.env.PATH, NODE_ENV: 'test' } as NodeJS.ProcessEnv })
    expect(JSON.parse(stdout)).toEqual([path.join(out, 'workflow-bundle.js'), path.join(out, 'workflows/index.js')])
    expect((await fs.stat(path.join(out, 'workflow-bundle.js'))).size).toBeGreaterThan(100_000)
    const cli = await exec(process.execPath, [path.join(out, 'bin/flowpanel.js'), 'backup', 'list', '--dir', path.join(out, 'no-backups')], { cwd: repo, env: { PATH: process.env.PATH, NODE_ENV: 'test' } as NodeJS.ProcessEnv })
    expect(cli.stdout).toMatch(/no backups in /)
  })

  it('is what the Dockerfile puts in the image: current Node LTS, production dependencies, dist/ and no tsx', async () => {
    const dockerfile = await fs.readFile(path.join(repo, 'Dockerfile'), 'utf8')
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=26$/m)
    const stages = dockerfile.split(/^FROM /m).slice(1)
    const runtime = stages.find((s) => / AS runtime\n/.test(s))!
    const prodDeps = stages.find((s) => / AS prod-deps\n/.test(s))!
    expect(prodDeps).toMatch(/RUN npm ci --omit=dev/)
    expect(runtime).toMatch(/COPY --from=prod-deps .*\/app\/node_modules/)
    expect(runtime).toMatch(/COPY --from=build .*\/app\/dist \.\/dist/)
    expect(runtime).not.toMatch(/tsx|COPY --chown=node:node \. \.|--from=build[^\n]*node_modules/)
    expect(runtime).toMatch(/^CMD \["node", "dist\/bin\/start\.js"\]$/m)
    expect(stages.find((s) => / AS build\n/.test(s))).toMatch(/npm run build:server && FLOWPANEL_WEB_BUILD_DIR=dist\/web\/build npm run build:web/)
  })
})
