import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Connection } from '@temporalio/client'
import type { TestWorkflowEnvironment } from '@temporalio/testing'
import knexFactory from 'knex'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, migrateLatest, migrateRollback } from '#db/knex.ts'
import { findTemporalCli } from '#temporal/servers.ts'
import { createTestDatabase, TEST_PG_URL } from '#tests/setup/database.ts'
import { createTestEnv } from '#tests/setup/temporal.ts'

/**
 * The shell scripts docker-compose.yml's one-shot jobs run, run here directly: db-init against the test Postgres,
 * the namespace job against Temporal's CLI dev server with the same `temporal` CLI the admin-tools image carries,
 * and the schema job with a stand-in for temporal-sql-tool (which only the admin-tools image has) that records
 * what it is asked.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const exec = promisify(execFile)
const pgUrl = new URL(TEST_PG_URL)
const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`
const role = `fp_app_${suffix}`
const databases: string[] = []
let tmp: string

async function sh(script: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec('sh', [path.join(repo, script)], { env: { PATH: process.env.PATH, NODE_ENV: 'test', ...env } as NodeJS.ProcessEnv })
    return { code: 0, out: stdout + stderr }
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string }
    return { code: e.code, out: e.stdout + e.stderr }
  }
}

const pgEnv = { PGHOST: pgUrl.hostname, PGPORT: pgUrl.port || '5432', PGUSER: decodeURIComponent(pgUrl.username) }

function urlFor(database: string, user?: string): string {
  const url = new URL(TEST_PG_URL)
  url.pathname = `/${database}`
  if (user) url.username = user
  return url.toString()
}

async function withAdmin<T>(fn: (admin: ReturnType<typeof knexFactory>) => Promise<T>): Promise<T> {
  const admin = knexFactory({ client: 'pg', connection: TEST_PG_URL, pool: { min: 0, max: 1 } })
  try {
    return await fn(admin)
  } finally {
    await admin.destroy()
  }
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'flowpanel-compose-scripts-'))
})

afterAll(async () => {
  await withAdmin(async (admin) => {
    for (const name of databases) await admin.raw(`drop database if exists "${name}" with (force)`)
    await admin.raw(`drop role if exists "${role}"`)
  })
  if (tmp) await fs.rm(tmp, { recursive: true, force: true })
})

describe('db/compose-init.sh (the db-init job)', () => {
  it('hands an existing install to a plain login role that can migrate, and does it again without harm', async () => {
    // An install from before the job: migrated tables, all owned by the superuser.
    const existing = await createTestDatabase('dbinit')
    databases.push(existing.name)
    await existing.db.destroy()
    const env = { ...pgEnv, APP_DB_NAME: existing.name, APP_DB_USER: role, APP_DB_PASSWORD: "it's-a-secret" }
    for (let run = 1; run <= 2; run++) {
      const result = await sh('db/compose-init.sh', env)
      expect(result, `run ${run}`).toMatchObject({ code: 0 })
      expect(result.out).toContain(`role ${role} (no superuser, no createdb, no createrole) owns database ${existing.name}`)
    }

    await withAdmin(async (admin) => {
      const attrs = await admin.raw('select rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolbypassrls from pg_roles where rolname = ?', [role])
      expect(attrs.rows).toEqual([{ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: true, rolbypassrls: false }])
      const owner = await admin.raw('select pg_get_userbyid(datdba) as owner from pg_database where datname = ?', [existing.name])
      expect(owner.rows[0].owner).toBe(role)
    })
    const asSuper = createDb(urlFor(existing.name))
    try {
      const foreign = await asSuper.raw(
        `select c.relname from pg_class c where c.relnamespace = 'public'::regnamespace and pg_get_userbyid(c.relowner) <> ?
         union all select p.proname from pg_proc p where p.pronamespace = 'public'::regnamespace and pg_get_userbyid(p.proowner) <> ?`,
        [role, role],
      )
      expect(foreign.rows).toEqual([])
    } finally {
      await asSuper.destroy()
    }

    // As the role: migrations go down and up again (DDL on its own tables), and it cannot make a database.
    const asApp = createDb(urlFor(existing.name, role))
    try {
      const undone = await migrateRollback(asApp)
      expect(undone.length).toBeGreaterThan(0)
      expect(await migrateLatest(asApp)).toEqual(undone.reverse())
      await expect(asApp.raw(`create database "fp_never_${suffix}"`)).rejects.toThrow(/permission denied/)
    } finally {
      await asApp.destroy()
    }
  })

  it('creates the app database, owned by the role, on a fresh server', async () => {
    const name = `fp_dbinit_new_${suffix}`
    databases.push(name)
    const result = await sh('db/compose-init.sh', { ...pgEnv, APP_DB_NAME: name, APP_DB_USER: role, APP_DB_PASSWORD: 'p4ss' })
    expect(result.code).toBe(0)
    const owner = await withAdmin((admin) => admin.raw('select pg_get_userbyid(datdba) as owner from pg_database where datname = ?', [name]))
    expect(owner.rows).toEqual([{ owner: role }])
  })

  it('refuses to make the superuser the app role, and names what is missing', async () => {
    const same = await sh('db/compose-init.sh', { ...pgEnv, APP_DB_NAME: 'x', APP_DB_USER: pgEnv.PGUSER, APP_DB_PASSWORD: 'p' })
    expect(same.code).toBe(1)
    expect(same.out).toMatch(/APP_DB_USER must differ from POSTGRES_USER/)
    const missing = await sh('db/compose-init.sh', { ...pgEnv, APP_DB_NAME: 'x', APP_DB_USER: role })
    expect(missing.code).not.toBe(0)
    expect(missing.out).toMatch(/APP_DB_PASSWORD must hold/)
  })
})

describe('temporal/compose/schema.sh (the temporal-schema job)', () => {
  async function stubTool(failOn?: string): Promise<{ tool: string; log: string }> {
    const log = path.join(tmp, `sql-tool-${Math.random().toString(36).slice(2)}.log`)
    const tool = `${log}.sh`
    const fail = failOn ? `case "$*" in *"${failOn}"*) echo "schema error" >&2; exit 3;; esac\n` : ''
    await fs.writeFile(tool, `#!/bin/sh\necho "$* password=$SQL_PASSWORD" >> "${log}"\n${fail}`, { mode: 0o755 })
    return { tool, log }
  }
  const env = { POSTGRES_SEEDS: 'postgres', DB_PORT: '5432', POSTGRES_USER: 'flowpanel', SQL_PASSWORD: 'pw', TEMPORAL_DB: 'temporal', TEMPORAL_VISIBILITY_DB: 'temporal_visibility' }

  it('creates both databases and brings each schema up to the versions the image ships, in order', async () => {
    const { tool, log } = await stubTool()
    const result = await sh('temporal/compose/schema.sh', { ...env, SQL_TOOL: tool })
    expect(result.code).toBe(0)
    const common = '--plugin postgres12 --ep postgres -p 5432 -u flowpanel'
    expect((await fs.readFile(log, 'utf8')).trim().split('\n')).toEqual([
      `${common} --db temporal create password=pw`,
      `${common} --db temporal setup-schema -v 0.0 password=pw`,
      `${common} --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned password=pw`,
      `${common} --db temporal_visibility create password=pw`,
      `${common} --db temporal_visibility setup-schema -v 0.0 password=pw`,
      `${common} --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned password=pw`,
    ])
  })

  it('stops at the first failing step, so the server does not start on a half-made schema', async () => {
    const { tool, log } = await stubTool('temporal update-schema')
    const result = await sh('temporal/compose/schema.sh', { ...env, SQL_TOOL: tool })
    expect(result.code).toBe(3)
    expect((await fs.readFile(log, 'utf8')).trim().split('\n')).toHaveLength(3)
    const missing = await sh('temporal/compose/schema.sh', { ...env, SQL_PASSWORD: '', SQL_TOOL: tool })
    expect(missing.code).not.toBe(0)
    expect(missing.out).toMatch(/SQL_PASSWORD must hold/)
  })
})

describe('temporal/compose/namespace.sh (the temporal-namespace job)', () => {
  let temporal: TestWorkflowEnvironment
  let cli: string

  beforeAll(async () => {
    temporal = await createTestEnv({ server: 'dev' })
    cli = findTemporalCli()!.path
  })

  afterAll(async () => {
    await temporal?.teardown()
  })

  async function describeNamespace(namespace: string) {
    const connection = await Connection.connect({ address: temporal.address })
    try {
      const ns = await connection.workflowService.describeNamespace({ namespace })
      const attributes = await connection.operatorService.listSearchAttributes({ namespace })
      return { retentionSeconds: Number(ns.config?.workflowExecutionRetentionTtl?.seconds), custom: attributes.customAttributes ?? {} }
    } finally {
      await connection.close()
    }
  }

  it('creates the namespace with its retention and search attributes, then applies a changed retention on the next run', async () => {
    const namespace = `flowpanel-${suffix}`
    const env = { TEMPORAL_CLI: cli, TEMPORAL_ADDRESS: temporal.address, NAMESPACE: namespace, SLEEP_SECONDS: '1', MAX_ATTEMPTS: '60' }
    const first = await sh('temporal/compose/namespace.sh', { ...env, RETENTION: '72h', SEARCH_ATTRIBUTES: 'FlowpanelOrderId=Keyword, FlowpanelAgentId=Int' })
    expect(first.code, first.out).toBe(0)
    expect(first.out).toContain(`creating namespace ${namespace} with retention 72h`)
    expect(first.out).toContain(`namespace ${namespace} is ready`)
    let state = await describeNamespace(namespace)
    expect(state.retentionSeconds).toBe(72 * 3600)
    expect(state.custom).toMatchObject({ FlowpanelOrderId: 2, FlowpanelAgentId: 3 })

    const second = await sh('temporal/compose/namespace.sh', { ...env, RETENTION: '720h', SEARCH_ATTRIBUTES: 'FlowpanelOrderId=Keyword' })
    expect(second.code, second.out).toBe(0)
    expect(second.out).toContain('search attribute FlowpanelOrderId is registered')
    state = await describeNamespace(namespace)
    expect(state.retentionSeconds).toBe(720 * 3600)
  })

  it('fails within its bound when no server answers, and refuses a malformed search attribute', async () => {
    const started = Date.now()
    const none = await sh('temporal/compose/namespace.sh', { TEMPORAL_CLI: cli, TEMPORAL_ADDRESS: '127.0.0.1:1', SLEEP_SECONDS: '0', MAX_ATTEMPTS: '2' })
    expect(none.code).toBe(1)
    expect(none.out).toMatch(/the cluster health check at 127\.0\.0\.1:1 did not succeed after 2 attempts/)
    expect(Date.now() - started).toBeLessThan(30_000)
    const bad = await sh('temporal/compose/namespace.sh', { TEMPORAL_CLI: cli, TEMPORAL_ADDRESS: temporal.address, NAMESPACE: 'default', SEARCH_ATTRIBUTES: 'JustAName', SLEEP_SECONDS: '1' })
    expect(bad.code).toBe(1)
    expect(bad.out).toMatch(/search attribute "JustAName" is not Name=Type/)
  })
})
