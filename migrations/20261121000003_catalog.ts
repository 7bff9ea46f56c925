import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('locations', (t) => {
    t.increments('id')
    t.text('code').notNullable().unique()
    t.text('name_fa').notNullable()
    t.text('name_en').notNullable()
    t.boolean('active').notNullable().defaultTo(true)
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })

  await knex.schema.createTable('plans', (t) => {
    t.increments('id')
    t.text('name_fa').notNullable()
    t.text('name_en').notNullable()
    t.integer('days').notNullable()
    /** 0 means unlimited traffic. */
    t.bigInteger('data_limit_bytes').notNullable()
    t.bigInteger('price').notNullable()
    t.bigInteger('agent_price').notNullable()
    t.boolean('active').notNullable().defaultTo(true)
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['active', 'id'])
  })
  await knex.raw(`alter table plans add constraint plans_values_check check (days > 0 and data_limit_bytes >= 0 and price > 0 and agent_price > 0)`)

  await knex.schema.createTable('plan_locations', (t) => {
    t.integer('plan_id').notNullable().references('plans.id').onDelete('CASCADE')
    t.integer('location_id').notNullable().references('locations.id').onDelete('RESTRICT')
    t.primary(['plan_id', 'location_id'])
    t.index(['location_id'])
  })

  await knex.schema.createTable('agent_locations', (t) => {
    t.integer('agent_user_id').notNullable().references('agents.user_id').onDelete('CASCADE')
    t.integer('location_id').notNullable().references('locations.id').onDelete('RESTRICT')
    t.primary(['agent_user_id', 'location_id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('agent_locations')
  await knex.schema.dropTable('plan_locations')
  await knex.schema.dropTable('plans')
  await knex.schema.dropTable('locations')
}
