import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('payment_methods', (t) => {
    t.increments('id')
    t.text('kind').notNullable()
    t.text('title_fa').notNullable()
    t.text('title_en').notNullable()
    /** CARD: { cardNumber, holder, bank }; SHEBA: { sheba, holder, bank }; CRYPTO: { network, address }; ZARINPAL: { merchantId? }. */
    t.jsonb('config').notNullable().defaultTo('{}')
    t.integer('daily_count_limit')
    t.bigInteger('daily_amount_limit')
    t.boolean('active').notNullable().defaultTo(true)
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(`alter table payment_methods add constraint payment_methods_kind_check check (kind in ('CARD', 'SHEBA', 'CRYPTO', 'ZARINPAL'))`)
  await knex.raw(
    `alter table payment_methods add constraint payment_methods_limits_check check ((daily_count_limit is null or daily_count_limit >= 0) and (daily_amount_limit is null or daily_amount_limit >= 0))`,
  )

  await knex.schema.createTable('payments', (t) => {
    t.increments('id')
    t.integer('user_id').notNullable().references('users.id').onDelete('RESTRICT')
    t.integer('method_id').notNullable().references('payment_methods.id').onDelete('RESTRICT')
    /** The order this payment pays for; null for a wallet top-up. */
    t.integer('order_id').references('orders.id').onDelete('RESTRICT')
    t.bigInteger('amount').notNullable()
    t.text('status').notNullable().defaultTo('PENDING')
    t.text('receipt_path')
    t.text('receipt_sha256')
    t.text('receipt_mime')
    t.text('gateway_authority').unique()
    t.text('gateway_ref_id')
    t.integer('decided_by').references('users.id').onDelete('RESTRICT')
    t.timestamp('decided_at', { useTz: true })
    t.text('note')
    t.text('workflow_id').unique()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['status', 'created_at'])
    t.index(['user_id', 'created_at'])
    t.index(['method_id', 'created_at'])
    t.index(['order_id'])
    t.index(['receipt_sha256'])
  })
  await knex.raw(`alter table payments add constraint payments_status_check check (status in ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED'))`)
  await knex.raw(`alter table payments add constraint payments_amount_check check (amount > 0)`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('payments')
  await knex.schema.dropTable('payment_methods')
}
