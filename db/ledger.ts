import type { Knex } from 'knex'
import { breaksCustomerFloor, decideDebit, negativeTransition, spendableCredit, usableCredit, type Balances, type WalletRole } from '#domain/credit.ts'
import { formatMoney, InvalidAmountError, parseMoney, parsePositiveMoney, type Money, type MoneyInput } from '#domain/money.ts'
import { findTextProblem, TEXT_PROBLEM_MESSAGES } from '#domain/text.ts'
import type { Db } from './knex.ts'

/**
 * The ledger: the only code that changes wallet balances.
 *
 * Every operation runs in one transaction: it locks the wallet row (`SELECT … FOR UPDATE`), checks the
 * credit rules against the locked balances, appends one `ledger_entries` row with the balances before
 * and after, and updates the wallet. Each call carries an idempotency key (unique in the table): a call
 * whose key is already in the ledger moves nothing and returns the first call's result with
 * `replayed: true`, including when two calls with the same key race. A key reused with different
 * parameters is a bug in the caller and fails with `IdempotencyConflictError`.
 *
 * `db` may be a transaction; the operation then runs in a savepoint inside it.
 */

export const LEDGER_ENTRY_TYPES = [
  'CHARGE_PENDING',
  'CHARGE_APPROVED',
  'CHARGE_REJECTED',
  'CHARGE_EXPIRED',
  'CHARGE_MANUAL',
  'ORDER_DEBIT',
  'ORDER_REFUND',
] as const
export type LedgerEntryType = (typeof LEDGER_ENTRY_TYPES)[number]

export interface LedgerResult {
  entryId: string
  type: LedgerEntryType
  userId: number
  /** Balances after the entry. */
  confirmed: Money
  pending: Money
  /** confirmed + pending after the entry. */
  usable: Money
  /** True when the key was already in the ledger: nothing moved, this is the first call's result. */
  replayed: boolean
  /** Usable credit crossed from >= 0 to < 0 with this entry (start the agent credit watch). */
  wentNegative: boolean
  /** Usable credit crossed from < 0 back to >= 0 with this entry (tell the credit watch). */
  backToNonNegative: boolean
  /** Since when usable credit has been below zero, as of this entry; null when it is >= 0. */
  negativeSince: Date | null
  /** When the entry was written. */
  createdAt: Date
}

/** A `LedgerResult` as JSON-safe data (amounts as decimal strings, dates as ISO strings), for activity results. */
export interface LedgerResultJson {
  entryId: string
  type: LedgerEntryType
  userId: number
  confirmed: string
  pending: string
  usable: string
  replayed: boolean
  wentNegative: boolean
  backToNonNegative: boolean
  negativeSince: string | null
  createdAt: string
}

export function ledgerResultToJson(r: LedgerResult): LedgerResultJson {
  return {
    ...r,
    confirmed: r.confirmed.toString(),
    pending: r.pending.toString(),
    usable: r.usable.toString(),
    negativeSince: r.negativeSince?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
  }
}

// ---- errors ----------------------------------------------------------------------------------------

export type LedgerErrorCode =
  | 'INSUFFICIENT_CREDIT'
  | 'NEGATIVE_CREDIT'
  | 'INSUFFICIENT_PENDING'
  | 'REFUND_EXCEEDS_DEBIT'
  | 'IDEMPOTENCY_CONFLICT'
  | 'WALLET_NOT_FOUND'
  | 'INVALID_LEDGER_INPUT'

/**
 * Base of every ledger refusal. `code` is stable (switch on it); `message` is written for the person
 * who asked. All of them are business failures: retrying the same call cannot succeed.
 */
export abstract class LedgerError extends Error {
  abstract readonly code: LedgerErrorCode
}

export class InsufficientCreditError extends LedgerError {
  readonly code = 'INSUFFICIENT_CREDIT'
  override readonly name = 'InsufficientCreditError'
  constructor(
    readonly userId: number,
    readonly required: Money,
    readonly available: Money,
    message = `Not enough credit: this costs ${fmt(required)} but only ${fmt(available)} is available.`,
  ) {
    super(message)
  }
}

export class NegativeCreditError extends LedgerError {
  readonly code = 'NEGATIVE_CREDIT'
  override readonly name = 'NegativeCreditError'
  constructor(
    readonly userId: number,
    readonly usable: Money,
    readonly required: Money,
  ) {
    super(
      `New orders are blocked while your credit is negative (${fmt(usable)}). ` +
        `Top up at least ${fmt(-usable + required)} to place this order of ${fmt(required)}.`,
    )
  }
}

export class InsufficientPendingError extends LedgerError {
  readonly code = 'INSUFFICIENT_PENDING'
  override readonly name = 'InsufficientPendingError'
  constructor(
    readonly userId: number,
    readonly type: LedgerEntryType,
    readonly amount: Money,
    readonly pending: Money,
  ) {
    super(`Cannot ${verbOf(type)} a charge of ${fmt(amount)} for user ${userId}: the wallet holds only ${fmt(pending)} pending.`)
  }
}

export class RefundExceedsDebitError extends LedgerError {
  readonly code = 'REFUND_EXCEEDS_DEBIT'
  override readonly name = 'RefundExceedsDebitError'
  constructor(
    readonly orderId: string,
    readonly amount: Money,
    readonly refundable: Money,
  ) {
    super(`Cannot refund ${fmt(amount)} for order ${orderId}: only ${fmt(refundable)} of what was paid for it is left to refund.`)
  }
}

export class IdempotencyConflictError extends LedgerError {
  readonly code = 'IDEMPOTENCY_CONFLICT'
  override readonly name = 'IdempotencyConflictError'
  constructor(
    readonly idempotencyKey: string,
    readonly existing: string,
    readonly requested: string,
  ) {
    super(`Idempotency key "${idempotencyKey}" was already used for ${existing}; it cannot be reused for ${requested}.`)
  }
}

export class WalletNotFoundError extends LedgerError {
  readonly code = 'WALLET_NOT_FOUND'
  override readonly name = 'WalletNotFoundError'
  constructor(readonly userId: number) {
    super(`User ${userId} has no wallet (unknown user id?).`)
  }
}

export class InvalidLedgerInputError extends LedgerError {
  readonly code = 'INVALID_LEDGER_INPUT'
  override readonly name = 'InvalidLedgerInputError'
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

export { InvalidAmountError }

/** Error names (`error.name`) of every ledger refusal: give them to Temporal as `nonRetryableErrorTypes`. */
export const LEDGER_ERROR_NAMES = [
  'InsufficientCreditError',
  'NegativeCreditError',
  'InsufficientPendingError',
  'RefundExceedsDebitError',
  'IdempotencyConflictError',
  'WalletNotFoundError',
  'InvalidLedgerInputError',
  'InvalidAmountError',
] as const

function fmt(amount: Money): string {
  return formatMoney(amount, { locale: 'en' })
}

function verbOf(type: LedgerEntryType): string {
  return { CHARGE_APPROVED: 'approve', CHARGE_REJECTED: 'reject', CHARGE_EXPIRED: 'expire' }[type as string] ?? 'move'
}

// ---- operations ------------------------------------------------------------------------------------

type Id = number | string

export interface SubmitPendingChargeInput {
  userId: number
  amount: MoneyInput
  paymentId: Id
  idempotencyKey: string
  actorUserId?: number | null
}
export interface DecideChargeInput {
  userId: number
  amount: MoneyInput
  paymentId: Id
  idempotencyKey: string
  actorUserId: number | null
  note?: string | null
}
export interface ExpireChargeInput {
  userId: number
  amount: MoneyInput
  paymentId: Id
  idempotencyKey: string
}
export interface AdjustManualInput {
  userId: number
  /** Signed: positive adds to confirmed credit, negative takes from it. */
  amount: MoneyInput
  /** Why; shown in the wallet history. Required. */
  note: string
  actorUserId: number
  idempotencyKey: string
}
export interface OrderMoneyInput {
  userId: number
  amount: MoneyInput
  orderId: Id
  idempotencyKey: string
  actorUserId?: number | null
  note?: string | null
}

/** CHARGE_PENDING: a receipt was submitted; its amount is pending (agents may already spend it). */
export async function submitPendingCharge(db: Db, input: SubmitPendingChargeInput): Promise<LedgerResult> {
  const amount = parsePositiveMoney(input.amount)
  return applyMovement(db, {
    type: 'CHARGE_PENDING',
    userId: input.userId,
    idempotencyKey: input.idempotencyKey,
    confirmedDelta: 0n,
    pendingDelta: amount,
    reference: paymentRef(input.paymentId),
    actorUserId: input.actorUserId ?? null,
    note: null,
  })
}

/** CHARGE_APPROVED: an admin approved the charge; it moves from pending to confirmed. */
export async function approveCharge(db: Db, input: DecideChargeInput): Promise<LedgerResult> {
  const amount = parsePositiveMoney(input.amount)
  return applyMovement(db, {
    type: 'CHARGE_APPROVED',
    userId: input.userId,
    idempotencyKey: input.idempotencyKey,
    confirmedDelta: amount,
    pendingDelta: -amount,
    reference: paymentRef(input.paymentId),
    actorUserId: input.actorUserId,
    note: input.note ?? null,
  })
}

/** CHARGE_REJECTED: an admin rejected the charge; it leaves pending. May push an agent below zero (see `wentNegative`). */
export async function rejectCharge(db: Db, input: DecideChargeInput): Promise<LedgerResult> {
  const amount = parsePositiveMoney(input.amount)
  return applyMovement(db, {
    type: 'CHARGE_REJECTED',
    userId: input.userId,
    idempotencyKey: input.idempotencyKey,
    confirmedDelta: 0n,
    pendingDelta: -amount,
    reference: paymentRef(input.paymentId),
    actorUserId: input.actorUserId,
    note: input.note ?? null,
  })
}

/** CHARGE_EXPIRED: nobody decided in time; the charge leaves pending. May push an agent below zero. */
export async function expireCharge(db: Db, input: ExpireChargeInput): Promise<LedgerResult> {
  const amount = parsePositiveMoney(input.amount)
  return applyMovement(db, {
    type: 'CHARGE_EXPIRED',
    userId: input.userId,
    idempotencyKey: input.idempotencyKey,
    confirmedDelta: 0n,
    pendingDelta: -amount,
    reference: paymentRef(input.paymentId),
    actorUserId: null,
    note: null,
  })
}

/**
 * CHARGE_MANUAL: an admin corrects confirmed credit by a signed amount, with a note. A customer's
 * credit cannot be taken below zero; an agent's can (reported through `wentNegative`).
 */
export async function adjustManual(db: Db, input: AdjustManualInput): Promise<LedgerResult> {
  const amount = parseMoney(input.amount)
  if (amount === 0n) throw new InvalidAmountError('a manual adjustment must not be zero', input.amount)
  const note = typeof input.note === 'string' ? input.note.trim() : ''
  if (note === '') throw new InvalidLedgerInputError('note', 'A manual adjustment needs a note saying why')
  const problem = findTextProblem(note, 'multiLine')
  if (problem) throw new InvalidLedgerInputError('note', `The note ${TEXT_PROBLEM_MESSAGES[problem]}`)
  if (!Number.isSafeInteger(input.actorUserId) || input.actorUserId <= 0) {
    throw new InvalidLedgerInputError('actorUserId', 'A manual adjustment needs the id of the admin who makes it')
  }
  return applyMovement(db, {
    type: 'CHARGE_MANUAL',
    userId: input.userId,
    idempotencyKey: input.idempotencyKey,
    confirmedDelta: amount,
    pendingDelta: 0n,
    reference: { type: 'manual', id: null },
    actorUserId: input.actorUserId,
    note,
    rule: (role, before, after) => {
      if (breaksCustomerFloor(role, after)) {
        throw new InsufficientCreditError(
          input.userId,
          -amount,
          before.confirmed,
          `Cannot take ${fmt(-amount)} from user ${input.userId}: their confirmed credit is ${fmt(before.confirmed)} and a ${role}'s credit cannot go below zero.`,
        )
      }
    },
  })
}

/**
 * ORDER_DEBIT: pay for an order from the wallet. Customers pay from confirmed credit; agents from usable
 * credit (confirmed + pending), and not at all while usable credit is negative.
 */
export async function debitOrder(db: Db, input: OrderMoneyInput): Promise<LedgerResult> {
  const amount = parsePositiveMoney(input.amount)
  return applyMovement(db, {
    type: 'ORDER_DEBIT',
    userId: input.userId,
    idempotencyKey: input.idempotencyKey,
    confirmedDelta: -amount,
    pendingDelta: 0n,
    reference: orderRef(input.orderId),
    actorUserId: input.actorUserId ?? null,
    note: input.note ?? null,
    rule: (role, before) => {
      const decision = decideDebit(role, before, amount)
      if (decision.ok) return
      if (decision.reason === 'NEGATIVE_CREDIT') throw new NegativeCreditError(input.userId, decision.usable, amount)
      throw new InsufficientCreditError(input.userId, decision.required, decision.available)
    },
  })
}

/**
 * ORDER_REFUND: give back (part of) what an order cost, to confirmed credit. The refunds of one order
 * never add up to more than its debits.
 */
export async function refundOrder(db: Db, input: OrderMoneyInput): Promise<LedgerResult> {
  const amount = parsePositiveMoney(input.amount)
  const orderId = refId('orderId', input.orderId)
  const reference: Reference = { type: 'order', id: orderId }
  return applyMovement(db, {
    type: 'ORDER_REFUND',
    userId: input.userId,
    idempotencyKey: input.idempotencyKey,
    confirmedDelta: amount,
    pendingDelta: 0n,
    reference,
    actorUserId: input.actorUserId ?? null,
    note: input.note ?? null,
    ruleWithDb: async (trx) => {
      const row = await trx('ledgerEntries')
        .where({ walletUserId: input.userId, referenceType: 'order', referenceId: orderId })
        .whereIn('type', ['ORDER_DEBIT', 'ORDER_REFUND'])
        .first(trx.raw('coalesce(-sum(confirmed_delta), 0)::text as "net"'))
      const refundable = BigInt((row as { net: string } | undefined)?.net ?? '0')
      if (amount > refundable) throw new RefundExceedsDebitError(orderId, amount, refundable < 0n ? 0n : refundable)
    },
  })
}

// ---- reading ---------------------------------------------------------------------------------------

export interface WalletView {
  userId: number
  role: WalletRole
  confirmed: Money
  pending: Money
  /** confirmed + pending. */
  usable: Money
  /** What the holder may spend on an order now: usable for agents, confirmed for others; never below 0. */
  spendable: Money
  negativeSince: Date | null
}

export async function getWallet(db: Db, userId: number): Promise<WalletView> {
  checkUserId(userId)
  const row = await db('wallets as w')
    .join('users as u', 'u.id', 'w.userId')
    .where('w.userId', userId)
    .first('w.confirmed', 'w.pending', 'w.negativeSince', 'u.role')
  if (!row) throw new WalletNotFoundError(userId)
  const balances = { confirmed: BigInt(row.confirmed), pending: BigInt(row.pending) }
  return {
    userId,
    role: row.role,
    ...balances,
    usable: usableCredit(balances),
    spendable: spendableCredit(row.role, balances),
    negativeSince: row.negativeSince ?? null,
  }
}

export interface LedgerCheck {
  ok: boolean
  /** How many wallets were checked. */
  wallets: number
  /** One sentence per inconsistency, naming the wallet and the numbers. */
  problems: string[]
}

/**
 * Verifies the ledger invariant for one wallet or all: each wallet's balances equal the sums of its
 * entries, each entry starts from the balances the previous one ended with, and `negative_since` is set
 * exactly when usable credit is below zero. A failure means something changed balances outside this module.
 */
export async function checkLedger(db: Db, userId?: number): Promise<LedgerCheck> {
  if (userId !== undefined) checkUserId(userId)
  const only = userId === undefined ? '' : 'where w.user_id = ?'
  const bindings = userId === undefined ? [] : [userId]
  const sums = await db.raw(
    `select w.user_id as "userId", u.username as "username", w.confirmed::text as "confirmed", w.pending::text as "pending",
            w.negative_since as "negativeSince",
            coalesce(s.confirmed_sum, 0)::text as "confirmedSum", coalesce(s.pending_sum, 0)::text as "pendingSum"
       from wallets w
       join users u on u.id = w.user_id
       left join (select wallet_user_id, sum(confirmed_delta) as confirmed_sum, sum(pending_delta) as pending_sum
                    from ledger_entries group by wallet_user_id) s on s.wallet_user_id = w.user_id
       ${only}
      order by w.user_id`,
    bindings,
  )
  const breaks = await db.raw(
    `select x.wallet_user_id as "userId", x.id::text as "entryId",
            x.confirmed_before::text as "confirmedBefore", x.pending_before::text as "pendingBefore",
            x.prev_confirmed::text as "prevConfirmed", x.prev_pending::text as "prevPending"
       from (select e.wallet_user_id, e.id, e.confirmed_before, e.pending_before,
                    lag(e.confirmed_after, 1, 0::bigint) over win as prev_confirmed,
                    lag(e.pending_after, 1, 0::bigint) over win as prev_pending
               from ledger_entries e
               ${userId === undefined ? '' : 'where e.wallet_user_id = ?'}
             window win as (partition by e.wallet_user_id order by e.id)) x
      where x.confirmed_before <> x.prev_confirmed or x.pending_before <> x.prev_pending
      order by x.wallet_user_id, x.id`,
    bindings,
  )
  type SumRow = {
    userId: number
    username: string
    confirmed: string
    pending: string
    negativeSince: Date | null
    confirmedSum: string
    pendingSum: string
  }
  type BreakRow = { userId: number; entryId: string; confirmedBefore: string; pendingBefore: string; prevConfirmed: string; prevPending: string }
  const problems: string[] = []
  const rows = sums.rows as SumRow[]
  const names = new Map(rows.map((r) => [r.userId, r.username]))
  for (const r of rows) {
    const who = `wallet of user ${r.userId} (${r.username})`
    for (const [field, balance, sum] of [
      ['confirmed', r.confirmed, r.confirmedSum],
      ['pending', r.pending, r.pendingSum],
    ] as const) {
      if (balance !== sum) {
        const diff = BigInt(balance) - BigInt(sum)
        problems.push(`${who}: ${field} balance is ${balance} but its ledger entries add up to ${sum} (off by ${diff > 0n ? '+' : ''}${diff})`)
      }
    }
    const negative = BigInt(r.confirmed) + BigInt(r.pending) < 0n
    if (negative && r.negativeSince === null) problems.push(`${who}: usable credit is negative but negative_since is not set`)
    if (!negative && r.negativeSince !== null) problems.push(`${who}: usable credit is not negative but negative_since is set`)
  }
  for (const b of breaks.rows as BreakRow[]) {
    problems.push(
      `wallet of user ${b.userId} (${names.get(b.userId) ?? '?'}): ledger entry ${b.entryId} starts from confirmed ${b.confirmedBefore} / pending ${b.pendingBefore} ` +
        `but the entry before it ended at confirmed ${b.prevConfirmed} / pending ${b.prevPending}`,
    )
  }
  return { ok: problems.length === 0, wallets: rows.length, problems }
}

// ---- the one write path ----------------------------------------------------------------------------

interface Reference {
  type: 'payment' | 'order' | 'manual'
  id: string | null
}

interface Movement {
  type: LedgerEntryType
  userId: number
  idempotencyKey: string
  confirmedDelta: Money
  pendingDelta: Money
  reference: Reference
  actorUserId: number | null
  note: string | null
  /** Credit rule checked against the locked balances; throws to refuse. */
  rule?: (role: WalletRole, before: Balances, after: Balances) => void
  /** A rule that needs to read the ledger; runs under the wallet lock. */
  ruleWithDb?: (trx: Knex.Transaction) => Promise<void>
}

interface EntryRow {
  id: string
  walletUserId: number
  type: LedgerEntryType
  confirmedDelta: string
  pendingDelta: string
  confirmedBefore: string
  confirmedAfter: string
  pendingBefore: string
  pendingAfter: string
  referenceType: string | null
  referenceId: string | null
  idempotencyKey: string
  createdAt: Date
}

/** Thrown inside the transaction when a concurrent call with the same key committed first. */
class KeyTakenMeanwhile extends Error {}

const MAX_KEY_LENGTH = 300

function checkUserId(userId: number): void {
  if (!Number.isSafeInteger(userId) || userId <= 0) {
    throw new InvalidLedgerInputError('userId', `userId must be a positive integer, got ${String(userId)}`)
  }
}

function paymentRef(paymentId: Id): Reference {
  return { type: 'payment', id: refId('paymentId', paymentId) }
}

function orderRef(orderId: Id): Reference {
  return { type: 'order', id: refId('orderId', orderId) }
}

function refId(field: string, id: Id): string {
  const text = typeof id === 'number' ? (Number.isSafeInteger(id) ? String(id) : '') : typeof id === 'string' ? id.trim() : ''
  if (text === '') throw new InvalidLedgerInputError(field, `${field} must be an integer id or a non-empty string`)
  return text
}

async function applyMovement(db: Db, m: Movement): Promise<LedgerResult> {
  checkUserId(m.userId)
  if (typeof m.idempotencyKey !== 'string' || m.idempotencyKey.trim() === '') {
    throw new InvalidLedgerInputError('idempotencyKey', 'idempotencyKey is required (e.g. `${workflowId}:debit`)')
  }
  if (m.idempotencyKey.length > MAX_KEY_LENGTH) {
    throw new InvalidLedgerInputError('idempotencyKey', `idempotencyKey must be at most ${MAX_KEY_LENGTH} characters`)
  }
  try {
    return await db.transaction(async (trx) => {
      const wallet = await trx('wallets as w')
        .join('users as u', 'u.id', 'w.userId')
        .where('w.userId', m.userId)
        .forUpdate('w')
        .first('w.confirmed', 'w.pending', 'w.negativeSince', 'u.role')
      if (!wallet) throw new WalletNotFoundError(m.userId)

      // Read after taking the lock: a same-key call that held the lock before us has committed by now.
      const existing = await trx<EntryRow>('ledgerEntries').where({ idempotencyKey: m.idempotencyKey }).first()
      if (existing) return replay(trx, existing, m)

      const role = wallet.role as WalletRole
      const before: Balances = { confirmed: BigInt(wallet.confirmed), pending: BigInt(wallet.pending) }
      const after: Balances = { confirmed: before.confirmed + m.confirmedDelta, pending: before.pending + m.pendingDelta }
      if (after.pending < 0n) throw new InsufficientPendingError(m.userId, m.type, -m.pendingDelta, before.pending)
      m.rule?.(role, before, after)
      await m.ruleWithDb?.(trx)

      // `on conflict do nothing` waits for a concurrent holder of the key (on another wallet) to finish.
      const [entry] = (await trx('ledgerEntries')
        .insert({
          walletUserId: m.userId,
          type: m.type,
          confirmedDelta: m.confirmedDelta.toString(),
          pendingDelta: m.pendingDelta.toString(),
          confirmedBefore: before.confirmed.toString(),
          confirmedAfter: after.confirmed.toString(),
          pendingBefore: before.pending.toString(),
          pendingAfter: after.pending.toString(),
          referenceType: m.reference.type,
          referenceId: m.reference.id,
          idempotencyKey: m.idempotencyKey,
          actorUserId: m.actorUserId,
          note: m.note,
        })
        .onConflict('idempotencyKey')
        .ignore()
        .returning(['id', 'createdAt'])) as { id: string; createdAt: Date }[]
      if (!entry) throw new KeyTakenMeanwhile()

      const { wentNegative, backToNonNegative } = negativeTransition(before, after)
      const usable = usableCredit(after)
      const [updated] = (await trx('wallets')
        .where({ userId: m.userId })
        .update({
          confirmed: after.confirmed.toString(),
          pending: after.pending.toString(),
          // now() is the transaction's start time, the same instant as the entry's created_at.
          negativeSince: usable < 0n ? (wallet.negativeSince ?? trx.fn.now()) : null,
          updatedAt: trx.fn.now(),
        })
        .returning(['negativeSince'])) as { negativeSince: Date | null }[]

      return {
        entryId: String(entry.id),
        type: m.type,
        userId: m.userId,
        confirmed: after.confirmed,
        pending: after.pending,
        usable,
        replayed: false,
        wentNegative,
        backToNonNegative,
        negativeSince: updated?.negativeSince ?? null,
        createdAt: entry.createdAt,
      }
    })
  } catch (error) {
    if (!(error instanceof KeyTakenMeanwhile)) throw error
    const existing = await db<EntryRow>('ledgerEntries').where({ idempotencyKey: m.idempotencyKey }).first()
    if (!existing) throw new Error(`ledger entry with idempotency key "${m.idempotencyKey}" vanished after a conflict`)
    return replay(db, existing, m)
  }
}

function describeMovement(x: { type: string; userId: number; confirmedDelta: Money; pendingDelta: Money; reference: Reference }): string {
  const amount = x.type === 'CHARGE_MANUAL' ? x.confirmedDelta : x.confirmedDelta !== 0n && x.pendingDelta === 0n ? abs(x.confirmedDelta) : abs(x.pendingDelta)
  const ref = x.reference.id === null ? '' : ` (${x.reference.type} ${x.reference.id})`
  return `${x.type} of ${amount} on the wallet of user ${x.userId}${ref}`
}

function abs(v: Money): Money {
  return v < 0n ? -v : v
}

/** Returns the first call's result for a repeated key, or refuses when the repeat asks for something else. */
async function replay(db: Db, entry: EntryRow, m: Movement): Promise<LedgerResult> {
  const first = {
    type: entry.type,
    userId: entry.walletUserId,
    confirmedDelta: BigInt(entry.confirmedDelta),
    pendingDelta: BigInt(entry.pendingDelta),
    reference: { type: entry.referenceType as Reference['type'], id: entry.referenceId },
  }
  const same =
    first.type === m.type &&
    first.userId === m.userId &&
    first.confirmedDelta === m.confirmedDelta &&
    first.pendingDelta === m.pendingDelta &&
    first.reference.type === m.reference.type &&
    first.reference.id === m.reference.id
  if (!same) throw new IdempotencyConflictError(m.idempotencyKey, describeMovement(first), describeMovement(m))

  const before = { confirmed: BigInt(entry.confirmedBefore), pending: BigInt(entry.pendingBefore) }
  const after = { confirmed: BigInt(entry.confirmedAfter), pending: BigInt(entry.pendingAfter) }
  const usable = usableCredit(after)
  let negativeSince: Date | null = null
  if (usable < 0n) {
    // The run of negative credit this entry belongs to began with the latest entry (up to this one) that crossed below zero.
    const start = await db('ledgerEntries')
      .where('walletUserId', entry.walletUserId)
      .where('id', '<=', entry.id)
      .whereRaw('confirmed_before + pending_before >= 0 and confirmed_after + pending_after < 0')
      .orderBy('id', 'desc')
      .first('createdAt')
    negativeSince = (start?.createdAt as Date | undefined) ?? null
  }
  return {
    entryId: String(entry.id),
    type: entry.type,
    userId: entry.walletUserId,
    confirmed: after.confirmed,
    pending: after.pending,
    usable,
    replayed: true,
    ...negativeTransition(before, after),
    negativeSince,
    createdAt: entry.createdAt,
  }
}
