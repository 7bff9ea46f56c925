import { execFile } from 'node:child_process'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

/**
 * docker-compose.yml must be valid as shipped with .env.example. Debian's docker-compose validates and
 * interpolates the file without a Docker engine, so this runs anywhere CI installs it.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const run = promisify(execFile)

/** Only PATH and HOME: variables of the test's own environment must not fill in for missing .env values. */
const cleanEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), NODE_ENV: 'test' } as NodeJS.ProcessEnv

async function compose(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('docker-compose', ['-f', path.join(repo, 'docker-compose.yml'), ...args], { cwd: repo, env: cleanEnv })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string }
    // Without docker-compose every test fails with the fix; none is skipped.
    if (e.code === 'ENOENT') {
      throw new Error('docker-compose is not installed, so docker-compose.yml cannot be validated. Install it: apt-get install -y docker-compose')
    }
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

describe('docker-compose.yml', () => {
  it('passes `docker-compose config -q` with the values of .env.example', async () => {
    const result = await compose(['--env-file', path.join(repo, '.env.example'), 'config', '-q'])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
  })

  it('has every service of the platform', async () => {
    const result = await compose(['--env-file', path.join(repo, '.env.example'), 'config', '--services'])
    expect(result.code).toBe(0)
    expect(result.stdout.trim().split('\n').sort()).toEqual(['backup', 'migrate', 'postgres', 'redis', 'temporal', 'temporal-ui', 'web', 'worker'])
  })

  it('gives long-running services a restart policy and the stateful ones a health check and a volume', async () => {
    const result = await compose(['--env-file', path.join(repo, '.env.example'), 'config'])
    expect(result.code).toBe(0)
    const services = splitServices(result.stdout)
    for (const name of ['postgres', 'redis', 'temporal', 'temporal-ui', 'web', 'worker', 'backup']) {
      expect(services[name], name).toMatch(/restart: unless-stopped/)
    }
    expect(services.migrate).toMatch(/restart: ["']no["']/)
    for (const name of ['postgres', 'redis', 'temporal', 'web', 'worker']) expect(services[name], name).toMatch(/healthcheck:/)
    expect(services.postgres).toMatch(/pgdata:\/var\/lib\/postgresql\/data/)
    expect(services.redis).toMatch(/redisdata:\/data/)
    expect(services.temporal).toMatch(/DYNAMIC_CONFIG_FILE_PATH: config\/dynamicconfig\/development-sql.yaml/)
    expect(services.temporal).toMatch(/DB: postgres12/)
    expect(services.web).toMatch(/DATABASE_URL: postgres:\/\/flowpanel:changeme0123456789@postgres:5432\/flowpanel/)
    expect(services.web).toMatch(/TEMPORAL_ADDRESS: temporal:7233/)
    // Web and Temporal UI are published on loopback only, for a reverse proxy or a tunnel.
    expect(services.web).toMatch(/127\.0\.0\.1/)
    expect(services['temporal-ui']).toMatch(/127\.0\.0\.1/)
  })

  it('mounts the Temporal dynamic config that exists in the repository', async () => {
    const text = await fs.readFile(path.join(repo, 'temporal/dynamicconfig/development-sql.yaml'), 'utf8')
    expect(text).toMatch(/^limit\.maxIDLength:/m)
  })

  it('refuses to render without the required secrets, naming the missing one', async () => {
    const empty = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'flowpanel-compose-')), 'empty.env')
    await fs.writeFile(empty, '')
    const result = await compose(['--env-file', empty, 'config', '-q'])
    expect(result.code).not.toBe(0)
    expect(result.stderr).toMatch(/set (POSTGRES_PASSWORD|APP_SECRET|PUBLIC_URL) in \.env/)
    await fs.rm(path.dirname(empty), { recursive: true, force: true })
  })
})

/** Splits the rendered YAML into one text block per service (two-space indented keys under `services:`). */
function splitServices(yaml: string): Record<string, string> {
  const out: Record<string, string> = {}
  const body = yaml.split(/^services:\n/m)[1] ?? ''
  let current: string | undefined
  for (const line of body.split('\n')) {
    if (/^\S/.test(line)) break
    const m = /^ {2}([a-z0-9-]+):\s*$/.exec(line)
    if (m) {
      current = m[1]!
      out[current] = ''
    } else if (current) {
      out[current] += line + '\n'
    }
  }
  return out
}
