/**
 * The one interface flowpanel uses to talk to a VPN panel. Everything panel-specific (Marzban's
 * seconds and nulls, 3X-UI's milliseconds and JSON-in-strings) stays inside the adapters; callers
 * only ever see these normalised shapes: bytes, UTC `Date`s, `0` for "unlimited".
 */
export type PanelType = 'marzban' | '3x-ui'

export const PANEL_TYPES: readonly PanelType[] = ['marzban', '3x-ui']

export type PanelAccountStatus = 'active' | 'disabled' | 'limited' | 'expired'

export interface PanelAccount {
  username: string
  status: PanelAccountStatus
  usedBytes: number
  /** 0 = unlimited. */
  dataLimitBytes: number
  /** null = never expires. */
  expiresAt: Date | null
  /** Absolute URL, or null when the panel serves no subscription for the user. */
  subscriptionUrl: string | null
  links: string[]
  /** The ownership marker found on the panel user (e.g. `flowpanel:order:42`), null when none. */
  owner: string | null
}

export interface CreateAccountInput {
  username: string
  /** Ownership marker written into the panel user's note/comment; see `ownerMarker()`. */
  owner: string
  expiresAt: Date | null
  /** 0 = unlimited. */
  dataLimitBytes: number
  /** Free text stored after the marker (visible to panel admins). */
  note?: string
}

/**
 * Give either a relative change (`addDays`, `addBytes`) or an absolute target (`newExpiresAt`,
 * `newDataLimitBytes`) per dimension. Absolute targets are idempotent and are what retried
 * activities should send; relative ones are applied to the panel's current values (days are
 * added to the later of now and the current expiry).
 */
export interface ExtendInput {
  username: string
  addDays?: number
  newExpiresAt?: Date | null
  addBytes?: number
  newDataLimitBytes?: number
}

export interface DeleteOptions {
  /**
   * When given, a user that exists but carries another ownership marker is not deleted
   * (USERNAME_TAKEN_BY_OTHER). Compensation must always pass it.
   */
  owner?: string
}

export interface PanelLoad {
  cpuPercent?: number
  memUsedBytes?: number
  memTotalBytes?: number
  /** Users the panel reports in total / active / online. */
  usersTotal?: number
  usersActive?: number
  usersOnline?: number
  /** 1-minute load average. */
  load1?: number
}

export interface PanelHealth {
  /** An HTTP answer came back from the panel. */
  reachable: boolean
  /** Reachable, logged in and the status call succeeded. */
  ok: boolean
  /** Panel software version as far as it can be told (e.g. `0.8.4`, `2.x`). */
  version: string | null
  /** Xray core version when the panel reports it. */
  coreVersion: string | null
  latencyMs: number | null
  load: PanelLoad | null
  error?: { code: string; message: string }
}

export interface PanelAdapter {
  readonly type: PanelType
  /** Panel base URL without credentials, for messages. */
  readonly label: string
  /** Creates the user; when the username already exists and carries the same owner, returns it. */
  createAccount(input: CreateAccountInput): Promise<PanelAccount>
  getAccount(username: string): Promise<PanelAccount | null>
  extend(input: ExtendInput): Promise<PanelAccount>
  disable(username: string): Promise<PanelAccount>
  enable(username: string): Promise<PanelAccount>
  /** Sets used traffic to zero without changing whether the user is disabled. */
  resetUsage(username: string): Promise<PanelAccount>
  /** Removes the user; a user that is already gone counts as success. */
  delete(username: string, options?: DeleteOptions): Promise<void>
  listAccounts(): Promise<PanelAccount[]>
  /** Never throws for transport failures: they come back as `reachable: false`. */
  health(): Promise<PanelHealth>
  /** Releases sockets (proxy agents, keep-alive pools). */
  close(): Promise<void>
}
