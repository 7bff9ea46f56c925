import { ApplicationFailure } from '@temporalio/common'

/**
 * Every failure a panel adapter reports is a PanelError with a stable `code`. Workflows and
 * activities act on the code (never on the message): retryable ones are retried by Temporal,
 * non-retryable ones stop the activity and let the workflow decide (refund, alert an admin…).
 *
 * "Already done" outcomes (create of a username we already own, delete of a missing user) are
 * not errors at all: the adapters return success for them, which is what keeps activities idempotent.
 */
export const PANEL_ERROR_KINDS = {
  /** Connection refused, reset, DNS failure, proxy down. */
  PANEL_UNREACHABLE: 'retryable',
  /** No answer within the adapter's timeout. */
  PANEL_TIMEOUT: 'retryable',
  /** The panel (or a reverse proxy in front of it) answered 5xx. */
  PANEL_5XX: 'retryable',
  /** The panel answered something that does not fit its API (HTML error page, truncated JSON…). */
  PANEL_BAD_RESPONSE: 'retryable',
  /** The panel refused a token/session that it had just issued; a later attempt logs in afresh. */
  PANEL_SESSION_EXPIRED: 'retryable',
  /** Another worker held the panel's write lock for too long. */
  PANEL_BUSY: 'retryable',
  /** The panel reported a failure flowpanel does not recognise (3X-UI `success:false` with an unknown message). */
  PANEL_REJECTED: 'retryable',
  /** No healthy active panel with spare capacity in the requested location; ops can add one. */
  NO_PANEL_AVAILABLE: 'retryable',
  /** The panel rejected the admin username, password or two-factor code. */
  PANEL_AUTH_FAILED: 'non_retryable',
  /** The admin account may not touch that user (Marzban 403). */
  PANEL_FORBIDDEN: 'non_retryable',
  /** The panel rejected the request body (Marzban 422, 3X-UI "invalid data format"). */
  PANEL_VALIDATION: 'non_retryable',
  /** The panel's URL, base path or settings in flowpanel are wrong. */
  PANEL_MISCONFIGURED: 'non_retryable',
  /** The username exists on the panel but was not created for this order. */
  USERNAME_TAKEN_BY_OTHER: 'non_retryable',
  /** The configured inbound (3X-UI inbound id, Marzban inbound tag or protocol) does not exist on the panel. */
  INBOUND_MISSING: 'non_retryable',
  /** The panel runs a version this adapter cannot talk to (e.g. 3X-UI 3.x). */
  UNSUPPORTED_PANEL_VERSION: 'non_retryable',
  /** The user to change does not exist on the panel. */
  NOT_FOUND: 'non_retryable',
  /** The caller passed values the adapter refuses (bad username, negative bytes…). */
  INVALID_INPUT: 'non_retryable',
} as const

export type PanelErrorCode = keyof typeof PANEL_ERROR_KINDS
export type PanelErrorKind = (typeof PANEL_ERROR_KINDS)[PanelErrorCode]

export class PanelError extends Error {
  override name = 'PanelError'
  readonly code: PanelErrorCode
  readonly kind: PanelErrorKind
  /** HTTP status when the panel answered one. */
  readonly status?: number

  constructor(code: PanelErrorCode, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.kind = PANEL_ERROR_KINDS[code]
    if (options.status !== undefined) this.status = options.status
  }

  get retryable(): boolean {
    return this.kind === 'retryable'
  }
}

export function isPanelError(error: unknown, code?: PanelErrorCode): error is PanelError {
  return error instanceof PanelError && (code === undefined || error.code === code)
}

/**
 * Turns a PanelError into the ApplicationFailure an activity should throw: `type` is the code, so
 * workflows can list codes in `nonRetryableErrorTypes` or match on `failure.type`; non-retryable
 * kinds are marked so Temporal stops retrying at once. Other errors are returned unchanged (plain
 * errors stay retryable).
 */
export function toApplicationFailure(error: unknown): unknown {
  if (!(error instanceof PanelError)) return error
  return ApplicationFailure.create({
    type: error.code,
    message: error.message,
    nonRetryable: error.kind === 'non_retryable',
    details: error.status === undefined ? [] : [{ status: error.status }],
  })
}

/** Runs a panel operation inside an activity, rethrowing PanelErrors as ApplicationFailures. */
export async function asActivity<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    throw toApplicationFailure(error)
  }
}

/** A URL fit for messages and logs: no user-info (proxy credentials), no query string. */
export function displayUrl(raw: string): string {
  try {
    const url = new URL(raw)
    url.username = ''
    url.password = ''
    url.search = ''
    url.hash = ''
    return url.toString()
  } catch {
    return '(invalid URL)'
  }
}
