import { z } from 'zod'
import { USERNAME_PATTERN } from '#db/users.ts'
import { f } from './forms.server.ts'

const phone = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim() : v),
  z
    .string()
    .optional()
    .transform((v) => (v ? v : null))
    .refine((v) => v === null || /^\+?[0-9۰-۹ -]{5,20}$/.test(v), 'invalidPhone'),
)

/** Profile and limits of an agent, shared by the create and edit forms. */
export const AgentProfileSchema = z.object({
  firstName: f.text(80),
  lastName: f.text(80),
  phone,
  shopName: f.optionalText(120, 'name'),
  address: f.optionalText(500, 'multiLine'),
  maxActiveAccounts: f.optionalInt({ min: 0, max: 1_000_000 }),
  mayDeleteForRefund: f.checkbox(),
  locationIds: f.idList(),
})

export const CreateAgentSchema = AgentProfileSchema.extend({
  username: f.text(32).pipe(z.string().regex(USERNAME_PATTERN, 'invalidUsername')),
  password: f.newPassword(),
})

export const EditAgentSchema = AgentProfileSchema.extend({
  password: z.preprocess((v) => (v === '' ? undefined : v), f.newPassword().optional()),
})

export const AdjustCreditSchema = z.object({
  amount: f.money('nonZero'),
  note: z.string({ required_error: 'noteRequired', invalid_type_error: 'noteRequired' }).trim().min(1, 'noteRequired').max(500, 'tooLong').superRefine(f.textCheck('singleLine')),
  idempotencyKey: z.string().regex(/^[0-9a-f-]{36}$/, 'invalid'),
})
