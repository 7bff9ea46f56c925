import type { Client } from '@temporalio/client'
import type { Redis } from 'ioredis'
import type { Env } from '#config/env.ts'
import type { Db } from '#db/knex.ts'
import { DEFAULT_REFUND_POLICY, type RefundPolicy } from '#domain/refund.ts'
import type { PanelAdapter, PanelHealth } from './panels/types.ts'
import type { TelegramSender } from './telegram.ts'

/** A stored panel, as far as the workflows care. */
export interface PanelRef {
  id: number
  name: string
  locationId: number
}

/**
 * The panels flowpanel may use, as the activities see them. The worker builds it from the panel module
 * (selection, adapters with decrypted credentials); tests may build it over fake panels.
 */
export interface PanelDirectory {
  /** A healthy, active panel in the location with spare capacity; throws PanelError NO_PANEL_AVAILABLE when none. */
  select(locationId: number): Promise<PanelRef>
  /** The adapter of a stored panel. */
  adapter(panelId: number): Promise<PanelAdapter>
  /** Every active panel. */
  list(): Promise<PanelRef[]>
  /** Stores a health check result (selection prefers healthy panels). */
  recordHealth(panelId: number, health: PanelHealth): Promise<void>
}

/** Tunables of the workflows that are not in the environment; defaults suit production. */
export interface WorkflowSettings {
  refundPolicy: RefundPolicy
  /** How many accounts the 24-hour rule disables or re-enables at once. */
  creditWatchConcurrency: number
  /** Prefix of panel usernames (see activities/panels/username.ts). */
  panelUsernamePrefix: string
}

export const DEFAULT_WORKFLOW_SETTINGS: WorkflowSettings = {
  refundPolicy: DEFAULT_REFUND_POLICY,
  creditWatchConcurrency: 4,
  panelUsernamePrefix: '',
}

export interface ActivityDeps {
  db: Db
  redis: Redis
  env: Env
  /** To signal other workflows (the order a payment pays for, the credit watch). */
  temporal: Client
  panels: PanelDirectory
  telegram: TelegramSender
  clock?: () => Date
  settings?: Partial<WorkflowSettings>
}

export interface ResolvedDeps extends ActivityDeps {
  clock: () => Date
  settings: WorkflowSettings
}

export function resolveDeps(deps: ActivityDeps): ResolvedDeps {
  return { ...deps, clock: deps.clock ?? (() => new Date()), settings: { ...DEFAULT_WORKFLOW_SETTINGS, ...deps.settings } }
}
