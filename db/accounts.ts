import type { Client } from '@temporalio/client'
import { DEFAULT_REFUND_POLICY, quoteRefund, type RefundPolicy, type RefundQuote } from '#domain/refund.ts'
import { findTextProblem, TEXT_PROBLEM_MESSAGES } from '#domain/text.ts'
import { startRefundWorkflow } from '#temporal/start.ts'
import { refundWorkflowId } from '#temporal/workflow-ids.ts'
import type { Db } from './knex.ts'
import type { Account, AccountStatus } from './models.ts'
import { discardRefund, openRefund } from './refunds.ts'

/**
 * Accounts: the panel users that orders made. Writes here are idempotent (guarded by the current state), so an
 * activity that retries after a lost answer changes nothing the second time.
 */
export type AccountRow = Account

export async function getAccount(db: Db, accountId: number): Promise<AccountRow | undefined> {
  return db('accounts').where({ id: accountId }).first()
}

export async function getAccountByOrder(db: Db, orderId: number): Promise<AccountRow | undefined> {
  return db('accounts').where({ orderId }).first()
}

export interface NewAccount {
  userId: number
  orderId: number
  planId: number
  panelId: number
  panelUsername: string
  subscriptionUrl: string | null
  expiresAt: Date | null
  dataLimitBytes: bigint
}

/** Inserts the account an order made, once: a second call for the same order returns the first row. */
export async function insertAccountOnce(db: Db, input: NewAccount): Promise<AccountRow> {
  await db('accounts')
    .insert({ ...input, dataLimitBytes: input.dataLimitBytes.toString(), status: 'active' })
    .onConflict('orderId')
    .ignore()
  const row = await getAccountByOrder(db, input.orderId)
  if (!row) throw new Error(`account of order ${input.orderId} was not stored`)
  return row
}

export async function setAccountTerms(db: Db, accountId: number, terms: { expiresAt: Date | null; dataLimitBytes: bigint; planId?: number }): Promise<void> {
  const patch: Record<string, unknown> = { expiresAt: terms.expiresAt, dataLimitBytes: terms.dataLimitBytes.toString(), updatedAt: db.fn.now() }
  if (terms.planId !== undefined) patch.planId = terms.planId
  // A renewal brings an expired or used-up account back; a disabled one stays disabled (an admin or the 24-hour rule did that).
  await db('accounts').where({ id: accountId }).update(patch)
  await db('accounts')
    .where({ id: accountId })
    .whereIn('status', ['expired', 'limited'])
    .update({ status: 'active', disabledReason: null, updatedAt: db.fn.now() })
}

/** Active accounts of a user (the 24-hour rule disables exactly these). */
export async function activeAccountIdsOfUser(db: Db, userId: number): Promise<number[]> {
  const rows = await db('accounts').where({ userId, status: 'active' }).orderBy('id').select('id')
  return rows.map((r: { id: number }) => r.id)
}

/** Marks an active account disabled by the negative-credit rule. True when it is (now or already) in that state. */
export async function markDisabledForCredit(db: Db, accountId: number): Promise<boolean> {
  const updated = await db('accounts')
    .where({ id: accountId, status: 'active' })
    .update({ status: 'disabled', disabledReason: 'negative_credit', updatedAt: db.fn.now() })
  if (updated > 0) return true
  const row = await getAccount(db, accountId)
  return row?.status === 'disabled' && row.disabledReason === 'negative_credit'
}

/** Re-activates an account only if it is still disabled for negative credit (not if an admin disabled or deleted it since). */
export async function markReEnabledAfterCredit(db: Db, accountId: number): Promise<boolean> {
  const updated = await db('accounts')
    .where({ id: accountId, status: 'disabled', disabledReason: 'negative_credit' })
    .update({ status: 'active', disabledReason: null, updatedAt: db.fn.now() })
  return updated > 0
}

export async function markAccountRemoved(db: Db, accountId: number, action: 'delete' | 'disable'): Promise<void> {
  if (action === 'delete') {
    await db('accounts').where({ id: accountId }).whereNot({ status: 'deleted' }).update({ status: 'deleted', deletedAt: db.fn.now(), updatedAt: db.fn.now() })
  } else {
    await db('accounts')
      .where({ id: accountId })
      .whereNot({ status: 'deleted' })
      .update({ status: 'disabled', disabledReason: 'admin', note: 'refunded', updatedAt: db.fn.now() })
  }
}

export interface UsageSnapshot {
  panelUsername: string
  status: 'active' | 'disabled' | 'limited' | 'expired'
  usedBytes: bigint
  dataLimitBytes: bigint
  expiresAt: Date | null
}

/**
 * Copies what a panel reports into the accounts of that panel. Deleted accounts are never touched; an account the
 * panel reports as disabled keeps the reason flowpanel recorded. Returns the accounts it updated.
 */
export async function applyUsageSnapshot(db: Db, panelId: number, snapshots: UsageSnapshot[], at: Date): Promise<AccountRow[]> {
  if (snapshots.length === 0) return []
  const byName = new Map(snapshots.map((s) => [s.panelUsername.toLowerCase(), s]))
  const rows: AccountRow[] = await db('accounts').where({ panelId }).whereNot({ status: 'deleted' })
  const updated: AccountRow[] = []
  for (const row of rows) {
    const s = byName.get(row.panelUsername.toLowerCase())
    if (!s) continue
    let status: AccountStatus = row.status
    let disabledReason = row.disabledReason
    if (s.status === 'expired' || s.status === 'limited') {
      if (row.status === 'active') status = s.status
    } else if (s.status === 'active' && (row.status === 'expired' || row.status === 'limited')) {
      status = 'active'
      disabledReason = null
    }
    const [next] = await db('accounts')
      .where({ id: row.id })
      .update(
        {
          dataUsedBytes: s.usedBytes.toString(),
          dataLimitBytes: s.dataLimitBytes.toString(),
          expiresAt: s.expiresAt,
          status,
          disabledReason,
          usageSyncedAt: at,
          updatedAt: db.fn.now(),
        },
        '*',
      )
    if (next) updated.push(next as AccountRow)
  }
  return updated
}

// ---- refunds -------------------------------------------------------------------------------------------

export interface AccountRefundQuote {
  accountId: number
  userId: number
  panelId: number
  panelUsername: string
  /** The order that created the account (its panel user carries that order's ownership marker). */
  originOrderId: number
  status: AccountStatus
  paid: bigint
  quote: RefundQuote
  /** How the refund is split over the orders that paid for the account, newest first, each within what it paid. */
  allocations: { orderId: number; amount: bigint }[]
  panelAction: RefundPolicy['panelAction']
}

/**
 * The refund an account would get now under `policy`: what its delivered orders (the purchase and any renewals)
 * paid net of earlier refunds, prorated by the pure policy in domain/refund.ts.
 */
export async function quoteAccountRefund(db: Db, accountId: number, options: { now: number; policy?: RefundPolicy }): Promise<AccountRefundQuote | undefined> {
  const account = await getAccount(db, accountId)
  if (!account) return undefined
  const orders: { id: number; userId: number }[] = await db('orders')
    .where((q) => q.where({ accountId }).orWhere({ id: account.orderId }))
    .whereIn('status', ['delivered', 'refunded'])
    .orderBy('id', 'desc')
    .select('id', 'userId')
  const paidByOrder = new Map<number, bigint>()
  if (orders.length > 0) {
    const rows = await db('ledgerEntries')
      .where({ referenceType: 'order', walletUserId: account.userId })
      .whereIn('referenceId', orders.map((o) => String(o.id)))
      .whereIn('type', ['ORDER_DEBIT', 'ORDER_REFUND'])
      .groupBy('referenceId')
      .select('referenceId', db.raw('(-sum(confirmed_delta))::text as "net"'))
    for (const r of rows as { referenceId: string; net: string }[]) paidByOrder.set(Number(r.referenceId), BigInt(r.net))
  }
  const paid = orders.reduce((sum, o) => sum + (paidByOrder.get(o.id) ?? 0n), 0n)
  const policy = options.policy ?? DEFAULT_REFUND_POLICY
  const quote =
    account.status === 'deleted'
      ? { amount: 0n, rule: 'nothing_paid' as const, usedTimeBps: 0, usedTrafficBps: 0 }
      : quoteRefund(
          {
            paid,
            startedAt: new Date(account.createdAt).getTime(),
            expiresAt: account.expiresAt ? new Date(account.expiresAt).getTime() : null,
            now: options.now,
            dataLimitBytes: BigInt(account.dataLimitBytes),
            dataUsedBytes: BigInt(account.dataUsedBytes),
          },
          policy,
        )
  const allocations: { orderId: number; amount: bigint }[] = []
  let left = quote.amount
  for (const o of orders) {
    if (left <= 0n) break
    const net = paidByOrder.get(o.id) ?? 0n
    if (net <= 0n) continue
    const take = net < left ? net : left
    allocations.push({ orderId: o.id, amount: take })
    left -= take
  }
  return {
    accountId,
    userId: account.userId,
    panelId: account.panelId,
    panelUsername: account.panelUsername,
    originOrderId: account.orderId,
    status: account.status,
    paid,
    quote,
    allocations,
    panelAction: policy.panelAction,
  }
}

export class RefundRefusedError extends Error {
  override name = 'RefundRefusedError'
  constructor(
    readonly code: 'ACCOUNT_NOT_FOUND' | 'ALREADY_DELETED' | 'NOT_ALLOWED' | 'INVALID_INPUT',
    message: string,
  ) {
    super(message)
  }
}

/**
 * Who may delete an account for a refund: an admin; the customer who owns it; the agent who owns it when their
 * reseller profile allows refunds. Returns the quote to show before confirming.
 */
export async function previewRefund(db: Db, input: { accountId: number; requestedBy: number; now?: number; policy?: RefundPolicy }): Promise<AccountRefundQuote> {
  const quote = await quoteAccountRefund(db, input.accountId, { now: input.now ?? Date.now(), policy: input.policy })
  if (!quote) throw new RefundRefusedError('ACCOUNT_NOT_FOUND', `Account ${input.accountId} does not exist`)
  if (quote.status === 'deleted') throw new RefundRefusedError('ALREADY_DELETED', `Account ${input.accountId} was already deleted`)
  const actor = await db('users').where({ id: input.requestedBy }).first('id', 'role', 'status')
  if (!actor || actor.status !== 'active') throw new RefundRefusedError('NOT_ALLOWED', `User ${input.requestedBy} may not delete accounts`)
  if (actor.role !== 'admin') {
    if (quote.userId !== actor.id) throw new RefundRefusedError('NOT_ALLOWED', `Account ${input.accountId} is not one of your accounts`)
    if (actor.role === 'agent') {
      const agent = await db('agents').where({ userId: actor.id }).first('mayDeleteForRefund')
      if (agent && !agent.mayDeleteForRefund) throw new RefundRefusedError('NOT_ALLOWED', 'Your reseller profile does not allow deleting accounts for a refund; ask an admin')
    }
  }
  return quote
}

/** The longest reason a refund keeps (it becomes part of the ledger note). */
export const MAX_REFUND_REASON = 300

/**
 * Checks the request like `previewRefund`, then starts (or finds) the `refundAccount` workflow `refund-<accountId>`.
 * The reason is checked first: it ends up in the ledger after the panel user is gone, so text Postgres would
 * refuse must be refused here, before anything happens.
 */
export async function requestRefund(
  db: Db,
  client: Client,
  input: { accountId: number; requestedBy: number; reason: string; policy?: RefundPolicy },
): Promise<{ quote: AccountRefundQuote; workflowId: string }> {
  const reason = input.reason.trim()
  if (reason === '') throw new RefundRefusedError('NOT_ALLOWED', 'Say why the account is deleted')
  const problem = findTextProblem(reason, 'singleLine')
  if (problem) throw new RefundRefusedError('INVALID_INPUT', `The reason ${TEXT_PROBLEM_MESSAGES[problem]}`)
  if (reason.length > MAX_REFUND_REASON) throw new RefundRefusedError('INVALID_INPUT', `The reason is longer than ${MAX_REFUND_REASON} characters`)
  const quote = await previewRefund(db, input)
  // The row comes first and is committed before the workflow starts: a refund whose start is lost is found by the reconciler.
  const opened = await openRefund(db, { accountId: input.accountId, requestedBy: input.requestedBy, reason, workflowId: refundWorkflowId(input.accountId) })
  try {
    const handle = await startRefundWorkflow(client, { accountId: input.accountId, requestedBy: input.requestedBy, reason })
    return { quote, workflowId: handle.workflowId }
  } catch (error) {
    if (opened.created) await discardRefund(db, opened.refund.id)
    throw error
  }
}

/** After a refund: orders paid back are marked refunded. */
export async function markOrdersRefunded(db: Db, orderIds: number[]): Promise<void> {
  if (orderIds.length === 0) return
  await db('orders').whereIn('id', orderIds).where({ status: 'delivered' }).update({ status: 'refunded', updatedAt: db.fn.now() })
}
