import { ApplicationFailure } from '@temporalio/common'
import { LedgerError, ledgerResultToJson, type LedgerResult, type LedgerResultJson } from '#db/ledger.ts'
import { InvalidAmountError } from '#domain/money.ts'
import { reportCreditChange } from '#temporal/start.ts'
import type { ResolvedDeps } from './deps.ts'

/**
 * Runs a ledger operation inside an activity. Ledger refusals are business failures: they become non-retryable
 * ApplicationFailures whose type is the error's name (e.g. `InsufficientCreditError`) and whose message is the
 * ledger's, written for the person. Afterwards the credit watch hears about any change of an agent's credit
 * around zero — also when the entry is a replay, since the first attempt may have died before telling it.
 */
export async function moveMoney(deps: ResolvedDeps, operation: () => Promise<LedgerResult>): Promise<LedgerResultJson> {
  let result: LedgerResult
  try {
    result = await operation()
  } catch (error) {
    if (error instanceof LedgerError || error instanceof InvalidAmountError) {
      throw ApplicationFailure.create({ type: error.name, message: error.message, nonRetryable: true })
    }
    throw error
  }
  await tellCreditWatch(deps, result)
  return ledgerResultToJson(result)
}

export async function tellCreditWatch(deps: Pick<ResolvedDeps, 'db' | 'temporal' | 'clock'>, result: Pick<LedgerResult, 'userId' | 'usable' | 'backToNonNegative'>): Promise<void> {
  if (result.usable >= 0n && !result.backToNonNegative) return
  const user = await deps.db('users').where({ id: result.userId }).first('role')
  if (!user) return
  await reportCreditChange(deps.temporal, { userId: result.userId, role: user.role, usable: result.usable, backToNonNegative: result.backToNonNegative }, deps.clock())
}
