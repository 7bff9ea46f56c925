import type { Knex } from 'knex'

/**
 * Installation-wide security settings an admin changes on /admin/security: one row (id 1), typed columns.
 *
 * require_two_factor_admin / _agent: people of that role without two-step verification are sent to set it up
 * after signing in, and can do nothing else until they have.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('security_settings', (t) => {
    t.smallint('id').primary()
    t.boolean('require_two_factor_admin').notNullable().defaultTo(false)
    t.boolean('require_two_factor_agent').notNullable().defaultTo(false)
    t.integer('updated_by_user_id').references('users.id').onDelete('SET NULL')
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw('alter table security_settings add constraint security_settings_one_row check (id = 1)')
  await knex('security_settings').insert({ id: 1 })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('security_settings')
}
