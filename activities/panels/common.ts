import { PanelError } from './errors.ts'
import type { CreateAccountInput, ExtendInput, PanelHealth } from './types.ts'
import { assertOwnerMarker, assertValidPanelUsername } from './username.ts'

function assertBytes(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new PanelError('INVALID_INPUT', `${name} must be a whole number of bytes ≥ 0 (got ${value})`)
}

function assertDate(value: Date, name: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new PanelError('INVALID_INPUT', `${name} must be a valid date`)
}

export function validateCreate(input: CreateAccountInput): void {
  assertValidPanelUsername(input.username)
  assertOwnerMarker(input.owner)
  assertBytes(input.dataLimitBytes, 'dataLimitBytes')
  if (input.expiresAt !== null) assertDate(input.expiresAt, 'expiresAt')
  if (input.note !== undefined && /[\r\n]/.test(input.note)) throw new PanelError('INVALID_INPUT', 'note must be a single line')
}

export function validateExtend(input: ExtendInput): void {
  assertValidPanelUsername(input.username)
  if (input.addDays !== undefined && input.newExpiresAt !== undefined) {
    throw new PanelError('INVALID_INPUT', 'give either addDays or newExpiresAt, not both')
  }
  if (input.addBytes !== undefined && input.newDataLimitBytes !== undefined) {
    throw new PanelError('INVALID_INPUT', 'give either addBytes or newDataLimitBytes, not both')
  }
  if ([input.addDays, input.newExpiresAt, input.addBytes, input.newDataLimitBytes].every((v) => v === undefined)) {
    throw new PanelError('INVALID_INPUT', `extending ${input.username} needs days, an expiry, bytes or a data limit`)
  }
  if (input.addDays !== undefined && (!Number.isFinite(input.addDays) || input.addDays < 0)) {
    throw new PanelError('INVALID_INPUT', `addDays must be ≥ 0 (got ${input.addDays})`)
  }
  if (input.newExpiresAt) assertDate(input.newExpiresAt, 'newExpiresAt')
  if (input.addBytes !== undefined) assertBytes(input.addBytes, 'addBytes')
  if (input.newDataLimitBytes !== undefined) assertBytes(input.newDataLimitBytes, 'newDataLimitBytes')
}

/** Health report for a failed probe: transport failures mean unreachable, anything else reachable-but-not-ok. */
export function healthFromError(error: unknown, started: number): PanelHealth {
  if (!(error instanceof PanelError)) throw error
  const unreachable = error.code === 'PANEL_UNREACHABLE' || error.code === 'PANEL_TIMEOUT'
  return {
    reachable: !unreachable,
    ok: false,
    version: null,
    coreVersion: null,
    latencyMs: unreachable ? null : Math.round(performance.now() - started),
    load: null,
    error: { code: error.code, message: error.message },
  }
}
