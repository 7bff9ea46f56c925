import { defineQuery } from '@temporalio/workflow'

/** The broadcast workflow's contract with the bot and the CLI (its type is WORKFLOW_TYPES.broadcast). */
export interface BroadcastInput {
  broadcastId: number
  /** Set when the workflow continues as new: batches sent by earlier runs, for the status only. */
  batchesBefore?: number
}

export interface BroadcastCountsJson {
  total: number
  pending: number
  sending: number
  sent: number
  failed: number
}

export interface BroadcastStatus {
  broadcastId: number
  phase: 'preparing' | 'sending' | 'finishing' | 'done'
  batches: number
  counts: BroadcastCountsJson
}

export const broadcastStatusQuery = defineQuery<BroadcastStatus>('broadcastStatus')

export interface BroadcastResult {
  broadcastId: number
  total: number
  delivered: number
  failed: number
}
