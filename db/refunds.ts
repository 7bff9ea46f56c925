import type { Db } from './knex.ts'

/**
 * Refund rows: written before a refund's workflow starts and closed by it (or by the reconciler when the workflow was
 * lost), so every refund asked for is either running, done or failed, and none is forgotten.
 */
export type RefundStatus = 'running' | 'done' | 'failed'

export interface Refund {
  id: number
  accountId: number
  requestedBy: number
  reason: string
  status: RefundStatus
  amount: string | null
  failureReason: string | null
  workflowId: string
  createdAt: Date
  updatedAt: Date
  finishedAt: Date | null
}

/**
 * The running refund of the account, made now unless one runs already (then that one is returned, with `created`
 * false: the request joins it).
 */
export async function openRefund(db: Db, input: { accountId: number; requestedBy: number; reason: string; workflowId: string }): Promise<{ refund: Refund; created: boolean }> {
  const [row] = (await db('refunds')
    .insert({ accountId: input.accountId, requestedBy: input.requestedBy, reason: input.reason, workflowId: input.workflowId })
    .onConflict(db.raw(`(account_id) where status = 'running'`))
    .ignore()
    .returning('*')) as Refund[]
  if (row) return { refund: row, created: true }
  const running = (await db('refunds').where({ accountId: input.accountId, status: 'running' }).first()) as Refund | undefined
  if (!running) throw new Error(`refund of account ${input.accountId}: neither inserted nor found running`)
  return { refund: running, created: false }
}

/** Removes a refund row whose workflow could not be started (nothing else refers to it). */
export async function discardRefund(db: Db, refundId: number): Promise<void> {
  await db('refunds').where({ id: refundId, status: 'running' }).delete()
}

/** Closes the account's running refund as done, with what was given back. */
export async function finishRefund(db: Db, accountId: number, amount: string | bigint): Promise<number> {
  return db('refunds').where({ accountId, status: 'running' }).update({ status: 'done', amount: String(amount), finishedAt: db.fn.now(), updatedAt: db.fn.now() })
}

/** Closes a running refund as failed, saying why. */
export async function failRefund(db: Db, refundId: number, reason: string): Promise<number> {
  return db('refunds').where({ id: refundId, status: 'running' }).update({ status: 'failed', failureReason: reason, finishedAt: db.fn.now(), updatedAt: db.fn.now() })
}

export async function getRefund(db: Db, refundId: number): Promise<Refund | undefined> {
  return db('refunds').where({ id: refundId }).first()
}
