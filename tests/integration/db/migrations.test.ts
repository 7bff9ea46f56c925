import { readdir } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MIGRATIONS_DIR, migrateLatest, migrateRollback, type Db } from '#db/knex.ts'
import { createUser } from '#db/users.ts'
import { createEmptyDatabase } from './empty-database.ts'

let db: Db
let drop: () => Promise<void>
let applied: string[]

const TABLES = [
  'users',
  'sessions',
  'agents',
  'wallets',
  'ledger_entries',
  'locations',
  'plans',
  'plan_locations',
  'agent_locations',
  'panels',
  'payment_methods',
  'payments',
  'orders',
  'accounts',
  'audit_log',
]

async function tables(): Promise<string[]> {
  const rows = await db.raw(`select table_name as "name" from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`)
  return (rows.rows as { name: string }[]).map((r) => r.name).sort()
}

async function refused(sql: string): Promise<string> {
  try {
    await db.raw(sql)
  } catch (error) {
    return (error as Error).message
  }
  throw new Error(`expected "${sql}" to be refused`)
}

beforeAll(async () => {
  ;({ db, drop } = await createEmptyDatabase('migrations'))
  applied = await migrateLatest(db)
})
afterAll(async () => {
  await drop()
})

describe('migrations on an empty database', () => {
  it('apply every migration file in order', async () => {
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.ts')).sort()
    expect(files.length).toBeGreaterThanOrEqual(7)
    expect(applied).toEqual(files)
    expect(await migrateLatest(db)).toEqual([])
  })

  it('create the whole schema', async () => {
    const present = await tables()
    for (const table of TABLES) expect(present).toContain(table)
  })

  it('put a foreign key on every integer *_id and *_by column', async () => {
    const rows = await db.raw(`
      select c.table_name as "table", c.column_name as "column"
        from information_schema.columns c
       where c.table_schema = 'public'
         and c.data_type = 'integer'
         and (c.column_name like '%\\_id' or c.column_name like '%\\_by')
         and c.table_name not like 'knex\\_%'
         and not exists (
           select 1 from information_schema.key_column_usage k
             join information_schema.table_constraints t on t.constraint_name = k.constraint_name and t.table_schema = k.table_schema
            where t.constraint_type = 'FOREIGN KEY' and k.table_schema = 'public'
              and k.table_name = c.table_name and k.column_name = c.column_name)`)
    expect(rows.rows).toEqual([])
  })

  it('install the append-only triggers on ledger_entries', async () => {
    const rows = await db.raw(
      `select tgname as "name" from pg_trigger where tgrelid = 'ledger_entries'::regclass and not tgisinternal order by tgname`,
    )
    expect((rows.rows as { name: string }[]).map((r) => r.name)).toEqual(['ledger_entries_no_truncate', 'ledger_entries_no_update_delete'])
  })

  it('refuse UPDATE, DELETE and TRUNCATE on ledger entries, but accept INSERT', async () => {
    const user = await createUser(db, { username: 'trigger_probe', role: 'customer' })
    await db('ledgerEntries').insert({
      walletUserId: user.id,
      type: 'CHARGE_MANUAL',
      confirmedDelta: '5',
      pendingDelta: '0',
      confirmedBefore: '0',
      confirmedAfter: '5',
      pendingBefore: '0',
      pendingAfter: '0',
      idempotencyKey: 'probe',
      note: 'probe',
    })
    expect(await refused(`update ledger_entries set note = 'rewritten'`)).toContain('ledger_entries is append-only: UPDATE refused')
    expect(await refused(`delete from ledger_entries`)).toContain('ledger_entries is append-only: DELETE refused')
    expect(await refused(`truncate ledger_entries`)).toContain('ledger_entries is append-only: TRUNCATE refused')
    expect(await db('ledgerEntries').count({ n: '*' })).toEqual([{ n: '1' }])
  })

  it('refuse an entry whose balances do not add up, a duplicate idempotency key, and a negative pending balance', async () => {
    const user = await db('users').where({ username: 'trigger_probe' }).first('id')
    const entry = {
      walletUserId: user.id,
      type: 'CHARGE_MANUAL',
      confirmedDelta: '5',
      pendingDelta: '0',
      confirmedBefore: '5',
      confirmedAfter: '11',
      pendingBefore: '0',
      pendingAfter: '0',
      idempotencyKey: 'probe-2',
    }
    await expect(db('ledgerEntries').insert(entry)).rejects.toThrow(/ledger_entries_balance_check/)
    await expect(db('ledgerEntries').insert({ ...entry, confirmedAfter: '10', idempotencyKey: 'probe' })).rejects.toThrow(/idempotency_key/)
    await expect(db('wallets').where({ userId: user.id }).update({ pending: '-1' })).rejects.toThrow(/wallets_pending_check/)
  })

  it('roll back completely, data and all, and apply again', async () => {
    const undone = await migrateRollback(db, { all: true })
    expect([...undone].sort()).toEqual([...applied].sort())
    expect((await tables()).filter((t) => !t.startsWith('knex_'))).toEqual([])
    expect(await migrateLatest(db)).toEqual(applied)
    expect(await tables()).toEqual(expect.arrayContaining(TABLES))
  })
})
