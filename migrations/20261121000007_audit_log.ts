import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id')
    t.integer('actor_user_id').references('users.id').onDelete('RESTRICT')
    t.text('action').notNullable()
    t.text('target_type')
    t.text('target_id')
    t.jsonb('detail').notNullable().defaultTo('{}')
    t.text('ip')
    t.text('user_agent')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['created_at'])
    t.index(['actor_user_id', 'created_at'])
    t.index(['target_type', 'target_id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_log')
}
