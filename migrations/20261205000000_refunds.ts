import type { Knex } from 'knex'

/**
 * refunds: one row per refund asked for, written before its `refundAccount` workflow starts and closed by it, so that
 * a refund whose workflow was lost (the process died before starting it, the namespace was reset, it was terminated
 * by hand) is found and finished by the reconciler like orders and payments are. At most one refund of an account
 * runs at a time; one that failed may be asked for again.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('refunds', (t) => {
    t.increments('id')
    t.integer('account_id').notNullable().references('accounts.id').onDelete('RESTRICT')
    t.integer('requested_by').notNullable().references('users.id').onDelete('RESTRICT')
    t.text('reason').notNullable()
    /** running → done | failed. */
    t.text('status').notNullable().defaultTo('running')
    /** What was given back, once done. */
    t.bigInteger('amount')
    t.text('failure_reason')
    t.text('workflow_id').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('finished_at', { useTz: true })
    t.index(['status', 'created_at'])
    t.index(['account_id'])
  })
  await knex.raw(`alter table refunds add constraint refunds_status_check check (status in ('running', 'done', 'failed'))`)
  await knex.raw(`alter table refunds add constraint refunds_amount_check check (amount is null or amount >= 0)`)
  await knex.raw(`create unique index refunds_one_running_per_account on refunds (account_id) where status = 'running'`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('refunds')
}
