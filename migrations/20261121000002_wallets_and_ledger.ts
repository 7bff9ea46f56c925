import type { Knex } from 'knex'

export const LEDGER_ENTRY_TYPES = [
  'CHARGE_PENDING',
  'CHARGE_APPROVED',
  'CHARGE_REJECTED',
  'CHARGE_EXPIRED',
  'CHARGE_MANUAL',
  'ORDER_DEBIT',
  'ORDER_REFUND',
] as const

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('wallets', (t) => {
    t.integer('user_id').primary().references('users.id').onDelete('RESTRICT')
    t.bigInteger('confirmed').notNullable().defaultTo(0)
    t.bigInteger('pending').notNullable().defaultTo(0)
    /** When usable credit (confirmed + pending) last dropped below zero; null while it is >= 0. */
    t.timestamp('negative_since', { useTz: true })
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(`alter table wallets add constraint wallets_pending_check check (pending >= 0)`)
  await knex.raw(`create index wallets_negative_idx on wallets (negative_since) where negative_since is not null`)

  await knex.schema.createTable('ledger_entries', (t) => {
    t.bigIncrements('id')
    t.integer('wallet_user_id').notNullable().references('wallets.user_id').onDelete('RESTRICT')
    t.text('type').notNullable()
    t.bigInteger('confirmed_delta').notNullable()
    t.bigInteger('pending_delta').notNullable()
    t.bigInteger('confirmed_before').notNullable()
    t.bigInteger('confirmed_after').notNullable()
    t.bigInteger('pending_before').notNullable()
    t.bigInteger('pending_after').notNullable()
    t.text('reference_type')
    t.text('reference_id')
    t.text('idempotency_key').notNullable().unique()
    t.integer('actor_user_id').references('users.id').onDelete('RESTRICT')
    t.text('note')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['wallet_user_id', 'id'])
    t.index(['created_at'])
    t.index(['reference_type', 'reference_id'])
  })
  await knex.raw(
    `alter table ledger_entries add constraint ledger_entries_type_check check (type in (${LEDGER_ENTRY_TYPES.map((t) => `'${t}'`).join(', ')}))`,
  )
  await knex.raw(
    `alter table ledger_entries add constraint ledger_entries_balance_check check (confirmed_after = confirmed_before + confirmed_delta and pending_after = pending_before + pending_delta)`,
  )
  // The ledger is append-only: history is never rewritten, corrections are new entries.
  await knex.raw(`
    create function ledger_entries_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'ledger_entries is append-only: % refused', tg_op using errcode = 'P0001';
    end $$;
  `)
  await knex.raw(`
    create trigger ledger_entries_no_update_delete
    before update or delete on ledger_entries
    for each row execute function ledger_entries_append_only();
  `)
  await knex.raw(`
    create trigger ledger_entries_no_truncate
    before truncate on ledger_entries
    for each statement execute function ledger_entries_append_only();
  `)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists ledger_entries_no_truncate on ledger_entries')
  await knex.raw('drop trigger if exists ledger_entries_no_update_delete on ledger_entries')
  await knex.schema.dropTable('ledger_entries')
  await knex.raw('drop function if exists ledger_entries_append_only()')
  await knex.schema.dropTable('wallets')
}
