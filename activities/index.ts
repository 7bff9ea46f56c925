import { createBroadcastActivities, withTelegramPacing } from './broadcast.ts'
import { createCreditWatchActivities } from './credit-watch.ts'
import { resolveDeps, type ActivityDeps } from './deps.ts'
import { createNotificationActivities } from './notifications.ts'
import { createOrderActivities } from './orders.ts'
import { createPaymentActivities } from './payments.ts'
import { createPeriodicActivities } from './periodic.ts'
import { createReconcileActivities } from './reconcile.ts'
import { createRefundActivities } from './refunds.ts'

/**
 * Every activity flowpanel's workflows call, built from explicit dependencies (the worker builds them; tests pass
 * their own). Each activity is idempotent: it takes a key derived from the workflow, or acts on state it checks first.
 */
export function createActivities(deps: ActivityDeps) {
  const resolved = resolveDeps(withTelegramPacing(deps))
  return {
    ...createNotificationActivities(resolved),
    ...createOrderActivities(resolved),
    ...createPaymentActivities(resolved),
    ...createRefundActivities(resolved),
    ...createCreditWatchActivities(resolved),
    ...createPeriodicActivities(resolved),
    ...createBroadcastActivities(resolved),
    ...createReconcileActivities(resolved),
  }
}

export type Activities = ReturnType<typeof createActivities>
export type { ActivityDeps, PanelDirectory, PanelRef, WorkflowSettings } from './deps.ts'
