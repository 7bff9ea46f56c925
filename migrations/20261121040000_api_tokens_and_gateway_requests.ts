import type { Knex } from 'knex'

/**
 * Reseller API tokens and online-gateway (Zarinpal) payment requests.
 *
 * api_tokens: only a SHA-256 of each token is stored (tokens are 256-bit random, so a fast hash is enough and
 * lets a request be looked up by its hash); the short prefix tells tokens apart in lists.
 *
 * gateway_requests: one row per payment request sent to the gateway, keyed by the gateway's authority. A payment
 * may have several (the payer gave up and tried again); the callback is verified against the row's amount.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('api_tokens', (t) => {
    t.increments('id')
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('name').notNullable()
    t.text('token_hash').notNullable().unique()
    t.text('token_prefix').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('last_used_at', { useTz: true })
    t.timestamp('revoked_at', { useTz: true })
    t.index(['user_id', 'created_at'])
  })
  await knex.raw(`alter table api_tokens add constraint api_tokens_name_check check (length(name) between 1 and 80)`)

  await knex.schema.createTable('gateway_requests', (t) => {
    t.increments('id')
    t.integer('payment_id').notNullable().references('payments.id').onDelete('RESTRICT')
    t.text('gateway').notNullable().defaultTo('zarinpal')
    t.text('authority').notNullable().unique()
    t.bigInteger('amount').notNullable()
    /** requested → verified | cancelled (the payer went back) | failed (verification refused). */
    t.text('status').notNullable().defaultTo('requested')
    t.text('ref_id')
    t.text('card_pan')
    /** The gateway's last answer code (100, 101 or an error code). */
    t.integer('result_code')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('verified_at', { useTz: true })
    t.index(['payment_id'])
  })
  await knex.raw(`alter table gateway_requests add constraint gateway_requests_status_check check (status in ('requested', 'verified', 'cancelled', 'failed'))`)
  await knex.raw(`alter table gateway_requests add constraint gateway_requests_amount_check check (amount > 0)`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gateway_requests')
  await knex.schema.dropTable('api_tokens')
}
