import type { Knex } from 'knex'

/**
 * Tables of the Telegram bot: one-time codes that link a Telegram account to a web account, the admin-chat
 * copies of each receipt (so every copy can be updated once an admin decides), and broadcasts with one row
 * per recipient (the row is what makes a broadcast resumable and each chat get at most one message).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('telegram_link_codes', (t) => {
    t.increments('id')
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE')
    /** sha256 of the code shown on the web profile page; the code itself is never stored. */
    t.text('code_hash').notNullable().unique()
    t.timestamp('expires_at', { useTz: true }).notNullable()
    t.timestamp('used_at', { useTz: true })
    t.bigInteger('used_by_telegram_id')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['user_id', 'created_at'])
  })

  await knex.schema.createTable('telegram_receipt_messages', (t) => {
    t.integer('payment_id').notNullable().references('payments.id').onDelete('CASCADE')
    t.bigInteger('chat_id').notNullable()
    t.bigInteger('message_id').notNullable()
    /** photo | document | text: how the copy was sent, which decides how it is edited later. */
    t.text('kind').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    // A chat may hold several copies (the one sent on arrival and those /pending shows later).
    t.primary(['payment_id', 'chat_id', 'message_id'])
  })
  await knex.raw(`alter table telegram_receipt_messages add constraint telegram_receipt_messages_kind_check check (kind in ('photo', 'document', 'text'))`)

  await knex.schema.createTable('broadcasts', (t) => {
    t.increments('id')
    t.integer('created_by').notNullable().references('users.id').onDelete('RESTRICT')
    t.text('text').notNullable()
    /** all | customers | agents | segment (then `segment` narrows it down). */
    t.text('audience').notNullable()
    t.jsonb('segment').notNullable().defaultTo('{}')
    t.text('status').notNullable().defaultTo('queued')
    t.integer('total').notNullable().defaultTo(0)
    t.integer('delivered').notNullable().defaultTo(0)
    t.integer('failed').notNullable().defaultTo(0)
    t.text('workflow_id').unique()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('started_at', { useTz: true })
    t.timestamp('finished_at', { useTz: true })
    t.index(['created_at'])
  })
  await knex.raw(`alter table broadcasts add constraint broadcasts_audience_check check (audience in ('all', 'customers', 'agents', 'segment'))`)
  await knex.raw(`alter table broadcasts add constraint broadcasts_status_check check (status in ('queued', 'sending', 'done', 'cancelled'))`)
  await knex.raw(`alter table broadcasts add constraint broadcasts_text_check check (length(text) between 1 and 4096)`)

  await knex.schema.createTable('broadcast_recipients', (t) => {
    t.integer('broadcast_id').notNullable().references('broadcasts.id').onDelete('CASCADE')
    t.bigInteger('chat_id').notNullable()
    t.integer('user_id').references('users.id').onDelete('SET NULL')
    /** pending → sending (claimed, the send may or may not have happened) → sent | failed. */
    t.text('status').notNullable().defaultTo('pending')
    t.integer('attempts').notNullable().defaultTo(0)
    t.text('last_error')
    t.bigInteger('message_id')
    t.timestamp('sent_at', { useTz: true })
    t.primary(['broadcast_id', 'chat_id'])
    t.index(['broadcast_id', 'status'])
  })
  await knex.raw(
    `alter table broadcast_recipients add constraint broadcast_recipients_status_check check (status in ('pending', 'sending', 'sent', 'failed'))`,
  )
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('broadcast_recipients')
  await knex.schema.dropTable('broadcasts')
  await knex.schema.dropTable('telegram_receipt_messages')
  await knex.schema.dropTable('telegram_link_codes')
}
