import { continueAsNew, proxyActivities, setHandler } from '@temporalio/workflow'
import type { Activities } from '#activities/index.ts'
import { bestEffort } from '../shared/best-effort.ts'
import { broadcastStatusQuery, type BroadcastInput, type BroadcastResult, type BroadcastStatus } from './messages.ts'
import { BATCHES_PER_RUN, isFinished } from './rules.ts'

/** Preparing and counting: plain database steps. */
const steps = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
})

/**
 * A batch paces its sends and waits out flood control, so it may take minutes; it heartbeats after every message,
 * so a worker that dies mid-batch is noticed in seconds and the batch resumes on another worker with what is left.
 */
const sending = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes' },
})

const notify = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 8 },
})

/**
 * broadcast: fix the recipient list → send in paced batches until nobody is left → store the delivered / failed
 * counts → tell the admin who started it. Who got the message is kept per recipient in Postgres, so a restart (of
 * the worker, or continue-as-new) resumes with the recipients not yet tried and nobody gets it twice.
 */
export async function broadcast(input: BroadcastInput): Promise<BroadcastResult> {
  const status: BroadcastStatus = {
    broadcastId: input.broadcastId,
    phase: 'preparing',
    batches: input.batchesBefore ?? 0,
    counts: { total: 0, pending: 0, sending: 0, sent: 0, failed: 0 },
  }
  setHandler(broadcastStatusQuery, () => status)

  status.counts = await steps.prepareBroadcast({ broadcastId: input.broadcastId })
  status.phase = 'sending'
  let batchesThisRun = 0
  while (!isFinished(status.counts)) {
    status.counts = await sending.sendBroadcastBatch({ broadcastId: input.broadcastId })
    status.batches++
    batchesThisRun++
    if (!isFinished(status.counts) && batchesThisRun >= BATCHES_PER_RUN) {
      await continueAsNew<typeof broadcast>({ broadcastId: input.broadcastId, batchesBefore: status.batches })
    }
  }
  status.phase = 'finishing'
  status.counts = await steps.finishBroadcast({ broadcastId: input.broadcastId })
  await bestEffort('broadcast report', () => notify.reportBroadcast({ broadcastId: input.broadcastId }))
  status.phase = 'done'
  return { broadcastId: input.broadcastId, total: status.counts.total, delivered: status.counts.sent, failed: status.counts.failed }
}
