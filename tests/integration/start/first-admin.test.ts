import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPlatform } from '../../../bin/start.ts'
import { ensureFirstAdmin } from '../../../bin/start/admin.ts'
import { freePort } from '../../../bin/start/processes.ts'
import { createLogger } from '../../../infra/logger.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import type { Db } from '#db/knex.ts'
import { verifyPassword } from '#db/users.ts'

/**
 * With FIRST_ADMIN_FILE set (docker compose), the first admin's one-time password goes to that file, readable by the
 * process's user only, and never to the printed banner or the JSON logs, which compose keeps for as long as the
 * container lives.
 */
let database: { db: Db; url: string; drop: () => Promise<void> }
let dir: string

beforeAll(async () => {
  database = await createTestDatabase('first_admin')
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'flowpanel-first-admin-'))
})

afterAll(async () => {
  await database?.drop()
  if (dir) await fs.rm(dir, { recursive: true, force: true })
})

async function startWeb(file: string) {
  const output: string[] = []
  const platform = await startPlatform({
    role: 'web',
    migrateOnly: false,
    env: {
      NODE_ENV: 'test',
      PATH: process.env.PATH,
      APP_SECRET: 'b'.repeat(64),
      DATABASE_URL: database.url,
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      // The web role connects to Temporal only when a page needs it; nothing here does.
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      PORT: String(await freePort('127.0.0.1')),
      FLOWPANEL_DATA_DIR: dir,
      FIRST_ADMIN_FILE: file,
    },
    logger: createLogger({ service: 'test', write: (line) => output.push(line) }),
    print: (text) => output.push(text),
  })
  return { platform, output: () => output.join('\n') }
}

describe('the name of the first admin', () => {
  it('is generated, not the guessable "admin", unless FIRST_ADMIN_USERNAME names it', async () => {
    const generated = await createTestDatabase('first_admin_generated')
    const named = await createTestDatabase('first_admin_named')
    try {
      const first = await ensureFirstAdmin(generated.db)
      expect(first?.username).toMatch(/^admin-[a-z2-9]{6}$/)
      expect(await generated.db('users').where({ role: 'admin' }).pluck('username')).toEqual([first!.username])
      expect(await ensureFirstAdmin(generated.db)).toBeUndefined()

      await named.db('users').insert({ username: 'taken-name', role: 'customer' })
      await expect(ensureFirstAdmin(named.db, { username: 'Taken-Name' })).rejects.toThrow(/FIRST_ADMIN_USERNAME "Taken-Name" is already the username/)
      expect((await ensureFirstAdmin(named.db, { username: 'owner' }))?.username).toBe('owner')
    } finally {
      await Promise.all([generated.drop(), named.drop()])
    }
  })
})

describe('the first admin in a deployment that keeps its output', () => {
  it('writes the one-time password to FIRST_ADMIN_FILE (mode 0600) and prints only where it is', async () => {
    const file = path.join(dir, 'state', 'first-admin.txt')
    const first = await startWeb(file)
    try {
      expect(first.platform.firstAdmin).toBeDefined()
      const { username, password } = first.platform.firstAdmin!
      const stat = await fs.stat(file)
      expect(stat.mode & 0o777).toBe(0o600)
      const text = await fs.readFile(file, 'utf8')
      expect(text).toContain(`username:   ${username}`)
      expect(text).toContain(`password:   ${password}`)
      expect(first.output()).toContain(`one-time password are in ${file}`)
      expect(first.output()).not.toContain(password)
      const user = await database.db('users').where({ username }).first('passwordHash')
      expect(await verifyPassword(user.passwordHash, password)).toBe(true)
    } finally {
      await first.platform.stop()
    }

    // A later start creates nobody and leaves the file as the operator left it.
    await fs.rm(file)
    const second = await startWeb(file)
    try {
      expect(second.platform.firstAdmin).toBeUndefined()
      await expect(fs.access(file)).rejects.toThrow()
      expect(second.output()).not.toContain('First start')
    } finally {
      await second.platform.stop()
    }
  })
})
