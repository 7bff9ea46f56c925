import type { Knex } from 'knex'

/**
 * Telegram has no idempotency key, so every message flowpanel sends once (order delivered, payment decided,
 * reminders, warnings) is recorded here under a business key before it is sent and marked after.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notifications_sent', (t) => {
    t.bigIncrements('id')
    /** e.g. `order-12:delivered:chat:1234`, `warn:traffic80:7:2026-12-01T00:00:00.000Z` */
    t.text('key').notNullable().unique()
    t.text('channel').notNullable().defaultTo('telegram')
    t.text('chat_id')
    t.text('kind').notNullable()
    /** sending: claimed, the send may or may not have happened; sent: delivered to the Bot API; skipped: nobody to tell. */
    t.text('status').notNullable().defaultTo('sending')
    t.bigInteger('message_id')
    t.integer('attempts').notNullable().defaultTo(0)
    t.text('last_error')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('sent_at', { useTz: true })
    t.index(['kind', 'created_at'])
    t.index(['status', 'created_at'])
  })
  await knex.raw(`alter table notifications_sent add constraint notifications_sent_status_check check (status in ('sending', 'sent', 'skipped'))`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('notifications_sent')
}
