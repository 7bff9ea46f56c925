import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('orders', (t) => {
    t.increments('id')
    t.integer('user_id').notNullable().references('users.id').onDelete('RESTRICT')
    t.integer('plan_id').notNullable().references('plans.id').onDelete('RESTRICT')
    t.integer('location_id').references('locations.id').onDelete('RESTRICT')
    t.text('kind').notNullable().defaultTo('new')
    /** For renew/extend: the account being renewed. For new: set when the account is delivered. */
    t.integer('account_id')
    t.text('pay_method').notNullable().defaultTo('wallet')
    t.bigInteger('price').notNullable()
    t.text('status').notNullable().defaultTo('pending')
    t.text('workflow_id').unique()
    t.text('idempotency_key')
    t.text('requested_username')
    t.text('note')
    t.text('failure_reason')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('delivered_at', { useTz: true })
    t.unique(['user_id', 'idempotency_key'])
    t.index(['status', 'created_at'])
    t.index(['user_id', 'created_at'])
    t.index(['created_at'])
  })
  await knex.raw(`alter table orders add constraint orders_kind_check check (kind in ('new', 'renew', 'extend'))`)
  await knex.raw(`alter table orders add constraint orders_pay_method_check check (pay_method in ('wallet', 'receipt', 'zarinpal'))`)
  await knex.raw(
    `alter table orders add constraint orders_status_check check (status in ('pending', 'awaiting_payment', 'provisioning', 'delivered', 'failed', 'cancelled', 'refunded'))`,
  )
  await knex.raw(`alter table orders add constraint orders_price_check check (price >= 0)`)

  await knex.schema.createTable('accounts', (t) => {
    t.increments('id')
    t.integer('user_id').notNullable().references('users.id').onDelete('RESTRICT')
    t.integer('order_id').notNullable().unique().references('orders.id').onDelete('RESTRICT')
    t.integer('plan_id').notNullable().references('plans.id').onDelete('RESTRICT')
    t.integer('panel_id').notNullable().references('panels.id').onDelete('RESTRICT')
    t.text('panel_username').notNullable()
    t.text('subscription_url')
    t.timestamp('expires_at', { useTz: true })
    /** 0 means unlimited traffic. */
    t.bigInteger('data_limit_bytes').notNullable().defaultTo(0)
    t.bigInteger('data_used_bytes').notNullable().defaultTo(0)
    t.text('status').notNullable().defaultTo('active')
    t.text('disabled_reason')
    t.text('note')
    t.timestamp('usage_synced_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('deleted_at', { useTz: true })
    t.index(['user_id', 'status'])
    t.index(['panel_id', 'status'])
    t.index(['status', 'expires_at'])
    t.index(['created_at'])
  })
  await knex.raw(`create unique index accounts_panel_username_unique on accounts (panel_id, lower(panel_username))`)
  await knex.raw(`alter table accounts add constraint accounts_status_check check (status in ('active', 'disabled', 'limited', 'expired', 'deleted'))`)
  await knex.raw(
    `alter table accounts add constraint accounts_disabled_reason_check check (disabled_reason is null or disabled_reason in ('negative_credit', 'admin', 'expired', 'limited'))`,
  )
  await knex.raw(`alter table orders add constraint orders_account_fk foreign key (account_id) references accounts(id) on delete restrict`)
  await knex.raw(`create index orders_account_idx on orders (account_id) where account_id is not null`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table orders drop constraint if exists orders_account_fk')
  await knex.schema.dropTable('accounts')
  await knex.schema.dropTable('orders')
}
