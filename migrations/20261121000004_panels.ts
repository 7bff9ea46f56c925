import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('panels', (t) => {
    t.increments('id')
    t.text('name').notNullable().unique()
    t.text('type').notNullable()
    t.text('base_url').notNullable()
    /** AES-256-GCM ciphertext of `{ username, password, totpSecret? }`; see db/crypto.ts. */
    t.text('credentials_encrypted').notNullable()
    t.text('proxy_url')
    t.integer('location_id').notNullable().references('locations.id').onDelete('RESTRICT')
    /** Maximum number of active accounts flowpanel may place on this panel. */
    t.integer('capacity').notNullable().defaultTo(1000)
    /** Panel-specific settings: Marzban inbounds/proxies, 3X-UI inbound id and subscription base. */
    t.jsonb('settings').notNullable().defaultTo('{}')
    t.boolean('active').notNullable().defaultTo(true)
    t.text('health_status').notNullable().defaultTo('unknown')
    t.text('health_detail')
    t.text('version')
    t.timestamp('health_checked_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['location_id', 'active', 'health_status'])
  })
  await knex.raw(`alter table panels add constraint panels_type_check check (type in ('marzban', '3x-ui'))`)
  await knex.raw(`alter table panels add constraint panels_health_check check (health_status in ('unknown', 'healthy', 'degraded', 'down'))`)
  await knex.raw(`alter table panels add constraint panels_capacity_check check (capacity >= 0)`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('panels')
}
