/** Workflow ids are business keys, so a repeated request finds the running workflow instead of starting a copy. */
export const orderWorkflowId = (orderId: number | string) => `order-${orderId}`
export const paymentWorkflowId = (paymentId: number | string) => `payment-${paymentId}`
export const refundWorkflowId = (accountId: number | string) => `refund-${accountId}`
export const creditWatchWorkflowId = (agentUserId: number | string) => `credit-watch-${agentUserId}`
export const broadcastWorkflowId = (broadcastId: number | string) => `broadcast-${broadcastId}`

/** Parses `order-12` style ids back into their kind and key; undefined for ids flowpanel did not make. */
export function parseWorkflowId(workflowId: string): { kind: 'order' | 'payment' | 'refund' | 'credit-watch' | 'broadcast'; key: string } | undefined {
  const m = /^(order|payment|refund|credit-watch|broadcast)-(.+)$/.exec(workflowId)
  if (!m) return undefined
  return { kind: m[1] as 'order' | 'payment' | 'refund' | 'credit-watch' | 'broadcast', key: m[2]! }
}
