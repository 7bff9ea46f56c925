import { execFile, execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { EnvSchema } from '#config/env.ts'
import { findExecutable } from '../../infra/executables.ts'

/**
 * docker-compose.yml as Docker Compose v2 renders it with the shipped .env.example. `config` validates and
 * interpolates the file without a Docker engine, so everything visible in the rendered file is checked here: health
 * checks, restart policies, grace periods, images and their versions, what each service waits for, the variables
 * passed to the app, and the scripts the one-shot jobs run.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const run = promisify(execFile)

/** Only PATH and HOME: variables of the test's own environment must not fill in for missing .env values. */
const cleanEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), NODE_ENV: 'test' } as NodeJS.ProcessEnv

/** Compose v2: the project's pinned install (npm run setup:compose), else `docker compose`, else a v2 `docker-compose`. */
function findCompose(): string[] | undefined {
  const candidates: string[][] = []
  const project = findExecutable(path.join(repo, '.tools/compose/bin/docker-compose'))
  if (project) candidates.push([project])
  if (findExecutable('docker')) candidates.push(['docker', 'compose'])
  const onPath = findExecutable('docker-compose')
  if (onPath) candidates.push([onPath])
  for (const command of candidates) {
    try {
      const version = execFileSync(command[0]!, [...command.slice(1), 'version', '--short'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 })
      if (/^v?2\./.test(version.trim())) return command
    } catch {
      // Not Compose v2 (v1 has no --short, the docker CLI may lack the plugin): try the next.
    }
  }
  return undefined
}

let composeCommand: string[]

async function compose(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [bin, ...pre] = composeCommand
  try {
    const { stdout, stderr } = await run(bin!, [...pre, '-f', path.join(repo, 'docker-compose.yml'), ...args], { cwd: repo, env: cleanEnv, maxBuffer: 16 * 1024 * 1024 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

interface Service {
  image?: string
  command?: string[]
  entrypoint?: string[]
  restart?: string
  profiles?: string[]
  stop_grace_period?: string
  environment?: Record<string, string | null>
  healthcheck?: { test: string[] }
  depends_on?: Record<string, { condition: string }>
  ports?: { host_ip?: string; published?: string; target: number }[]
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[]
}

let services: Record<string, Service>
const envExample = path.join(repo, '.env.example')

/** Compose renders durations like 1m0s or 45s. */
function seconds(duration: string | undefined): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration ?? '')
  if (!duration || !m) throw new Error(`not a duration: ${duration}`)
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)
}

beforeAll(async () => {
  const found = findCompose()
  // One line naming the fix, before any test runs: every test of this file needs Compose.
  if (!found) throw new Error('Docker Compose v2 is not installed, so docker-compose.yml cannot be checked: run `npm run setup:compose`')
  composeCommand = found
  const rendered = await compose(['--env-file', envExample, '--profile', 'restore', 'config', '--format', 'json'])
  if (rendered.code !== 0) throw new Error(`docker compose config failed: ${rendered.stderr}`)
  services = (JSON.parse(rendered.stdout) as { services: Record<string, Service> }).services
})

describe('docker-compose.yml', () => {
  it('passes `docker compose config -q` with the values of .env.example, without warnings', async () => {
    const result = await compose(['--env-file', envExample, 'config', '-q'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
  })

  it('has every service of the platform, and the restore tool only on request', async () => {
    const result = await compose(['--env-file', envExample, 'config', '--services'])
    expect(result.code).toBe(0)
    expect(result.stdout.trim().split('\n').sort()).toEqual(
      ['backup', 'db-init', 'migrate', 'postgres', 'redis', 'temporal', 'temporal-namespace', 'temporal-schema', 'temporal-ui', 'web', 'worker'].sort(),
    )
    expect(services.restore?.profiles).toEqual(['restore'])
  })

  it('refuses to render without each required secret, naming it', async () => {
    const example = await fs.readFile(envExample, 'utf8')
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowpanel-compose-'))
    try {
      for (const name of ['APP_SECRET', 'POSTGRES_PASSWORD', 'APP_DB_PASSWORD', 'PUBLIC_URL']) {
        const file = path.join(dir, `${name}.env`)
        await fs.writeFile(file, example.replace(new RegExp(`^${name}=.*$`, 'm'), ''))
        const result = await compose(['--env-file', file, 'config', '-q'])
        expect(result.code, name).not.toBe(0)
        expect(result.stderr, name).toMatch(new RegExp(`set ${name} in \\.env`))
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })

  it('checks Postgres over TCP with its user and database, so the socket-only init server does not count', () => {
    const test = services.postgres!.healthcheck!.test.join(' ')
    expect(test).toMatch(/pg_isready -h 127\.0\.0\.1 -p 5432 -U "\$\$POSTGRES_USER" -d "\$\$POSTGRES_DB"/)
    expect(services.redis!.healthcheck!.test.join(' ')).toMatch(/redis-cli ping/)
    expect(services.temporal!.healthcheck!.test).toEqual(['CMD', 'nc', '-z', '127.0.0.1', '7233'])
    expect(services.web!.healthcheck!.test.join(' ')).toMatch(/127\.0\.0\.1:3000\/readyz/)
    expect(services.worker!.healthcheck!.test.join(' ')).toMatch(/127\.0\.0\.1:3001\/readyz/)
  })

  it('restarts long-running services unless stopped, and one-shot jobs on failure a bounded number of times', () => {
    for (const name of ['postgres', 'redis', 'temporal', 'temporal-ui', 'web', 'worker', 'backup']) {
      expect(services[name]!.restart, name).toBe('unless-stopped')
    }
    for (const name of ['migrate', 'db-init', 'temporal-schema', 'temporal-namespace']) {
      expect(services[name]!.restart, name).toMatch(/^on-failure:\d+$/)
    }
    expect(services.restore!.restart).toBe('no')
  })

  it('gives each service the time it needs to stop: the worker more than its 30 s activity drain', () => {
    expect(seconds(services.worker!.stop_grace_period)).toBeGreaterThan(30)
    expect(seconds(services.postgres!.stop_grace_period)).toBeGreaterThanOrEqual(60)
    for (const name of ['web', 'redis', 'temporal', 'backup']) expect(seconds(services[name]!.stop_grace_period), name).toBeGreaterThan(10)
  })

  it('starts each service only after what it needs: schema, server, namespace, role, migrations', () => {
    const dependsOn = (name: string) => Object.fromEntries(Object.entries(services[name]!.depends_on ?? {}).map(([k, v]) => [k, v.condition]))
    expect(dependsOn('db-init')).toEqual({ postgres: 'service_healthy' })
    expect(dependsOn('temporal-schema')).toEqual({ postgres: 'service_healthy' })
    expect(dependsOn('temporal')).toEqual({ 'temporal-schema': 'service_completed_successfully' })
    expect(dependsOn('temporal-namespace')).toEqual({ temporal: 'service_healthy' })
    expect(dependsOn('temporal-ui')).toEqual({ 'temporal-namespace': 'service_completed_successfully' })
    expect(dependsOn('migrate')).toEqual({ 'db-init': 'service_completed_successfully' })
    for (const name of ['web', 'worker']) {
      expect(dependsOn(name), name).toEqual({
        migrate: 'service_completed_successfully',
        redis: 'service_healthy',
        'temporal-namespace': 'service_completed_successfully',
      })
    }
  })

  it('runs Temporal as upstream does in production: server and admin tools of one release, no auto-setup image', () => {
    for (const [name, service] of Object.entries(services)) expect(service.image ?? '', name).not.toMatch(/auto-setup|temporalite/)
    const version = (image: string | undefined) => /:(\d+\.\d+\.\d+)$/.exec(image ?? '')?.[1]
    expect(services.temporal!.image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/)
    for (const job of ['temporal-schema', 'temporal-namespace']) {
      expect(services[job]!.image, job).toMatch(/^temporalio\/admin-tools:/)
      expect(version(services[job]!.image), job).toBe(version(services.temporal!.image))
    }
    expect(services['temporal-ui']!.image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/)
    const env = services.temporal!.environment!
    expect(env).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres', BIND_ON_IP: '0.0.0.0', DBNAME: 'temporal', VISIBILITY_DBNAME: 'temporal_visibility' })
    expect(Number(env.NUM_HISTORY_SHARDS)).toBeGreaterThanOrEqual(16)
    expect(services['temporal-namespace']!.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', NAMESPACE: 'default', RETENTION: '720h' })
    expect(services['temporal-schema']!.environment).toMatchObject({ TEMPORAL_DB: env.DBNAME, TEMPORAL_VISIBILITY_DB: env.VISIBILITY_DBNAME })
  })

  it('mounts a Temporal dynamic config that exists and keeps the dev-only cache refresh off', async () => {
    const mount = services.temporal!.volumes!.find((v) => v.target === '/etc/temporal/config/dynamicconfig')!
    expect(mount.read_only).toBe(true)
    const file = path.join(mount.source, path.basename(services.temporal!.environment!.DYNAMIC_CONFIG_FILE_PATH!))
    const text = await fs.readFile(file, 'utf8')
    expect(text).toMatch(/^limit\.maxIDLength:/m)
    expect(text).toMatch(/system\.forceSearchAttributesCacheRefreshOnRead:\n\s+- value: false/)
  })

  it('passes the app every variable its configuration reads, and none it does not', () => {
    const read = Object.keys(EnvSchema.shape).sort()
    for (const name of ['migrate', 'web', 'worker']) {
      expect(Object.keys(services[name]!.environment!).sort(), name).toEqual(read)
    }
  })

  it('connects the app as its own role, not the superuser, and runs the compiled server', () => {
    const env = services.web!.environment!
    const url = new URL(env.DATABASE_URL!)
    expect(url.username).toBe('flowpanel_app')
    expect(url.username).not.toBe(services.postgres!.environment!.POSTGRES_USER)
    expect(services['db-init']!.environment).toMatchObject({ APP_DB_USER: url.username, APP_DB_NAME: url.pathname.slice(1), APP_DB_PASSWORD: decodeURIComponent(url.password) })
    for (const name of ['migrate', 'web', 'worker']) {
      expect(services[name]!.command!.slice(0, 2), name).toEqual(['node', 'dist/bin/start.js'])
    }
    expect(services.migrate!.command).toContain('--migrate-only')
    expect(env).toMatchObject({ NODE_ENV: 'production', TRUST_PROXY: 'loopback, uniquelocal' })
  })

  it('keeps the first admin password file out of the backed-up uploads', () => {
    const file = services.web!.environment!.FIRST_ADMIN_FILE!
    const mounts = services.web!.volumes!
    const holder = mounts.find((v) => file.startsWith(v.target + '/'))
    expect(holder?.source).toBe('state')
    expect(services.backup!.volumes!.some((v) => v.source === 'state')).toBe(false)
  })

  it('backs up the app database, Temporal databases and the uploads; restores with the uploads writable', () => {
    const backup = services.backup!
    expect(backup.environment!.BACKUP_DATABASES!.split(' ')).toEqual(['flowpanel', 'temporal', 'temporal_visibility'])
    const uploads = backup.volumes!.find((v) => v.source === 'uploads')!
    expect(uploads).toMatchObject({ target: backup.environment!.BACKUP_UPLOADS_DIR, read_only: true })
    const restoreUploads = services.restore!.volumes!.find((v) => v.source === 'uploads')!
    expect(restoreUploads.target).toBe(services.restore!.environment!.UPLOADS_DIR)
    expect(restoreUploads.read_only ?? false).toBe(false)
  })

  it('publishes web and Temporal UI on loopback only', () => {
    for (const name of ['web', 'temporal-ui']) {
      expect(services[name]!.ports!.map((p) => p.host_ip), name).toEqual(['127.0.0.1'])
    }
    for (const [name, service] of Object.entries(services)) if (!['web', 'temporal-ui'].includes(name)) expect(service.ports, name).toBeUndefined()
  })

  it('mounts only scripts that exist, and every one of them parses as POSIX sh', async () => {
    const scripts = new Set<string>()
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        // The backup directory is made by the backup service itself; everything else must ship with the repository.
        if (volume.type !== 'bind' || !volume.source.startsWith(repo + path.sep) || volume.source === path.join(repo, 'backups')) continue
        const stat = await fs.stat(volume.source).catch(() => undefined)
        expect(stat, `${name}: ${volume.source}`).toBeDefined()
        const files = stat!.isDirectory() ? (await fs.readdir(volume.source)).map((f) => path.join(volume.source, f)) : [volume.source]
        for (const file of files) if (file.endsWith('.sh')) scripts.add(file)
      }
    }
    expect([...scripts].map((f) => path.relative(repo, f)).sort()).toEqual(
      ['backup/compose-loop.sh', 'backup/compose-restore.sh', 'db/compose-init.sh', 'temporal/compose/namespace.sh', 'temporal/compose/schema.sh'].sort(),
    )
    for (const file of scripts) {
      const result = await run('sh', ['-n', file]).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      )
      expect(result, file).toEqual({ code: 0, stderr: '' })
    }
  })
})
