import type { Db } from './knex.ts'
import type { Role } from './models.ts'

/** The installation's security settings (one row, see migrations/20261205100000_security_settings.ts). */
export interface SecuritySettings {
  /** Roles whose people must use two-step verification. */
  requireTwoFactor: { admin: boolean; agent: boolean }
}

export async function getSecuritySettings(db: Db): Promise<SecuritySettings> {
  const row = await db('securitySettings').where({ id: 1 }).first('requireTwoFactorAdmin', 'requireTwoFactorAgent')
  return { requireTwoFactor: { admin: Boolean(row?.requireTwoFactorAdmin), agent: Boolean(row?.requireTwoFactorAgent) } }
}

/** Whether people of `role` must use two-step verification (customers never can). */
export async function twoFactorRequiredFor(db: Db, role: Role): Promise<boolean> {
  if (role === 'customer') return false
  return (await getSecuritySettings(db)).requireTwoFactor[role]
}

/** Stores the two-step requirement; returns false (and writes nothing) when it is already so. */
export async function setTwoFactorRequirement(db: Db, requireTwoFactor: SecuritySettings['requireTwoFactor'], actorUserId: number): Promise<boolean> {
  const changed = await db('securitySettings')
    .where({ id: 1 })
    .andWhere((q) => q.whereNot('requireTwoFactorAdmin', requireTwoFactor.admin).orWhereNot('requireTwoFactorAgent', requireTwoFactor.agent))
    .update({ requireTwoFactorAdmin: requireTwoFactor.admin, requireTwoFactorAgent: requireTwoFactor.agent, updatedByUserId: actorUserId, updatedAt: db.fn.now() })
  return changed > 0
}

/** Active admins and agents who have not turned two-step verification on, for the settings page. */
export async function countWithoutTwoFactor(db: Db): Promise<{ admin: number; agent: number }> {
  const rows: { role: Role; n: number }[] = await db('users')
    .whereIn('role', ['admin', 'agent'])
    .where({ status: 'active', totpEnabled: false })
    .groupBy('role')
    .select('role', db.raw('count(*)::int as n'))
  return { admin: rows.find((r) => r.role === 'admin')?.n ?? 0, agent: rows.find((r) => r.role === 'agent')?.n ?? 0 }
}
