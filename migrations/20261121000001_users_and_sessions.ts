import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id')
    t.text('username').notNullable()
    t.text('password_hash')
    t.text('role').notNullable()
    t.text('status').notNullable().defaultTo('active')
    t.text('display_name')
    t.text('locale').notNullable().defaultTo('fa')
    t.text('theme').notNullable().defaultTo('dark')
    t.bigInteger('telegram_id').unique()
    t.text('telegram_username')
    t.text('totp_secret_encrypted')
    t.boolean('totp_enabled').notNullable().defaultTo(false)
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(`alter table users add constraint users_role_check check (role in ('admin', 'agent', 'customer'))`)
  await knex.raw(`alter table users add constraint users_status_check check (status in ('active', 'disabled'))`)
  await knex.raw(`alter table users add constraint users_locale_check check (locale in ('fa', 'en'))`)
  await knex.raw(`alter table users add constraint users_theme_check check (theme in ('dark', 'light'))`)
  await knex.raw(`create unique index users_username_lower_unique on users (lower(username))`)
  await knex.raw(`create index users_role_created_idx on users (role, created_at desc)`)

  // Owned session table (lucia v3's schema: id, user_id, expires_at).
  await knex.schema.createTable('sessions', (t) => {
    t.text('id').primary()
    t.integer('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.timestamp('expires_at', { useTz: true }).notNullable()
    t.boolean('two_factor_verified').notNullable().defaultTo(false)
    t.text('ip')
    t.text('user_agent')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['user_id'])
    t.index(['expires_at'])
  })

  await knex.schema.createTable('agents', (t) => {
    t.integer('user_id').primary().references('users.id').onDelete('CASCADE')
    t.text('first_name').notNullable()
    t.text('last_name').notNullable()
    t.text('phone')
    t.text('shop_name')
    t.text('address')
    t.integer('max_active_accounts')
    t.boolean('may_delete_for_refund').notNullable().defaultTo(true)
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(`alter table agents add constraint agents_max_active_check check (max_active_accounts is null or max_active_accounts >= 0)`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('agents')
  await knex.schema.dropTable('sessions')
  await knex.schema.dropTable('users')
}
