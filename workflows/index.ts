/** Every workflow the worker registers. Names here are the workflow types in temporal/messages.ts. */
export { orderToProvision } from './order/workflow.ts'
export { paymentApproval } from './payment/workflow.ts'
export { refundAccount } from './refund/workflow.ts'
export { agentCreditWatch } from './credit-watch/workflow.ts'
export { periodicPass } from './periodic/workflow.ts'
export { broadcast } from './broadcast/workflow.ts'
export { reconcilePass } from './reconcile/workflow.ts'
