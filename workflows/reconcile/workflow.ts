import { proxyActivities, workflowInfo } from '@temporalio/workflow'
import type { Activities } from '#activities/index.ts'
import type { ReconcilePassInput, ReconcilePassSummary } from '#temporal/messages.ts'
import { describeFailure } from '../shared/failure.ts'
import { decideReconcile, DEFAULT_MIN_AGE_MS } from './rules.ts'

/** Reading rows and describing their workflows; a pass that cannot read is retried a few times, then reported. */
const steps = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
})

/**
 * One pass of reconciliation, started by the `reconcile` schedule (docs/decisions/011-reconciler.md): every order,
 * payment, refund and broadcast row in a non-final state whose workflow is missing or closed is started again (same
 * business id) or settled, by `decideReconcile`; each gets an audit row. A row that cannot be reconciled is reported in
 * the result and tried again by the next pass.
 */
export async function reconcilePass(input: ReconcilePassInput = {}): Promise<ReconcilePassSummary> {
  const { workflowId, runId } = workflowInfo()
  const summary: ReconcilePassSummary = { at: new Date(Date.now()).toISOString(), checked: 0, reconciled: [], problems: [] }
  let found: Awaited<ReturnType<Activities['findLostWork']>>
  try {
    found = await steps.findLostWork({ minAgeMs: input.minAgeMs ?? DEFAULT_MIN_AGE_MS })
  } catch (error) {
    summary.problems.push(`finding lost work: ${describeFailure(error).message}`)
    return summary
  }
  summary.checked = found.checked
  for (const item of found.lost) {
    const decision = decideReconcile(item.facts)
    try {
      summary.reconciled.push(await steps.reconcileWork({ key: `${workflowId}:${runId}:${item.row.kind}-${item.row.id}`, item, decision }))
    } catch (error) {
      summary.problems.push(`${item.row.workflowId}: ${describeFailure(error).message}`)
    }
  }
  return summary
}
