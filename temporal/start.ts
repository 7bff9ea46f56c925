import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client'
import { z } from 'zod'
import { MAX_ID } from '#domain/ids.ts'
import { singleLineText } from '#domain/text.ts'
import { MAIN_TASK_QUEUE } from './task-queues.ts'
import type { BroadcastInput } from '#workflows/broadcast/messages.ts'
import { broadcastWorkflowId, creditWatchWorkflowId, orderWorkflowId, paymentWorkflowId, refundWorkflowId } from './workflow-ids.ts'
import {
  creditChangedSignal,
  WORKFLOW_TYPES,
  type AgentCreditWatchInput,
  type OrderToProvisionInput,
  type PaymentApprovalInput,
  type RefundAccountInput,
} from './messages.ts'

/**
 * Starting and signalling flowpanel's workflows. Ids are business keys: starting work that already runs returns
 * the running workflow (conflict policy USE_EXISTING), and a business key whose workflow has finished is never
 * started again (reuse policy REJECT_DUPLICATE) — the finished one is returned instead.
 */

async function startOnce(
  client: Client,
  type: string,
  workflowId: string,
  args: unknown[],
  reuse: 'REJECT_DUPLICATE' | 'ALLOW_DUPLICATE_FAILED_ONLY' = 'REJECT_DUPLICATE',
): Promise<WorkflowHandle> {
  try {
    return await client.workflow.start(type, {
      taskQueue: MAIN_TASK_QUEUE,
      workflowId,
      args,
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: reuse,
    })
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle(workflowId)
    throw error
  }
}

export function startOrderWorkflow(client: Client, orderId: number): Promise<WorkflowHandle> {
  const input: OrderToProvisionInput = { orderId }
  return startOnce(client, WORKFLOW_TYPES.orderToProvision, orderWorkflowId(orderId), [input])
}

export function startPaymentWorkflow(client: Client, paymentId: number): Promise<WorkflowHandle> {
  const input: PaymentApprovalInput = { paymentId }
  return startOnce(client, WORKFLOW_TYPES.paymentApproval, paymentWorkflowId(paymentId), [input])
}

/**
 * What a refund workflow may start with: ids Postgres can hold and a reason it can store, checked before the
 * workflow exists (the reason reaches the ledger only after the panel user is deleted).
 */
export const RefundAccountInputSchema = z.object({
  accountId: z.number().int().positive().max(MAX_ID),
  requestedBy: z.number().int().positive().max(MAX_ID),
  reason: singleLineText({ max: 300 }),
}) satisfies z.ZodType<RefundAccountInput>

/**
 * A refund of an account runs once per account, but an account can be refunded again only if the first refund
 * failed (ALLOW_DUPLICATE_FAILED_ONLY), e.g. after an admin fixed what made it fail.
 */
export async function startRefundWorkflow(client: Client, raw: RefundAccountInput): Promise<WorkflowHandle> {
  const input = RefundAccountInputSchema.parse(raw)
  const workflowId = refundWorkflowId(input.accountId)
  try {
    return await client.workflow.start(WORKFLOW_TYPES.refundAccount, {
      taskQueue: MAIN_TASK_QUEUE,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    })
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return client.workflow.getHandle(workflowId)
    throw error
  }
}

/** Work whose workflow the reconciler starts again, with the input the workflow is started with. */
export type RestartTarget =
  | { kind: 'order'; orderId: number }
  | { kind: 'payment'; paymentId: number }
  | { kind: 'refund'; input: RefundAccountInput }
  | { kind: 'broadcast'; broadcastId: number }

/**
 * Starts the workflow of work the reconciler found without a running one: never started (the process died after
 * writing the row), gone (a namespace reset, past retention), or closed without finishing (terminated, cancelled,
 * timed out, failed). Same business id; ALLOW_DUPLICATE_FAILED_ONLY lets a new run follow a run that did not
 * complete and never one that did; a run started meanwhile is returned (USE_EXISTING). The workflows' idempotency
 * keys make the new run safe: it does again only what the earlier one had not done.
 */
export async function startWorkflowAgain(client: Client, target: RestartTarget): Promise<WorkflowHandle> {
  const [type, workflowId, args] =
    target.kind === 'order'
      ? [WORKFLOW_TYPES.orderToProvision, orderWorkflowId(target.orderId), [{ orderId: target.orderId } satisfies OrderToProvisionInput]]
      : target.kind === 'payment'
        ? [WORKFLOW_TYPES.paymentApproval, paymentWorkflowId(target.paymentId), [{ paymentId: target.paymentId } satisfies PaymentApprovalInput]]
        : target.kind === 'refund'
          ? [WORKFLOW_TYPES.refundAccount, refundWorkflowId(target.input.accountId), [RefundAccountInputSchema.parse(target.input)]]
          : [WORKFLOW_TYPES.broadcast, broadcastWorkflowId(target.broadcastId), [{ broadcastId: target.broadcastId } satisfies BroadcastInput]]
  return startOnce(client, type, workflowId, args, 'ALLOW_DUPLICATE_FAILED_ONLY')
}

/** The part of a ledger result the credit watch needs. */
export interface CreditChange {
  userId: number
  role: string
  /** Usable credit after the change (confirmed + pending). */
  usable: bigint
  backToNonNegative: boolean
}

/**
 * Tells the agent credit watch (the 24-hour rule) about a change of an agent's usable credit. Below zero the
 * watch is signal-with-started (it starts when the credit first goes negative and hears every later change);
 * back at zero or above, a running watch is signalled and an absent one is not started. Customers and admins
 * have no watch. Every code path that moves an agent's credit (activities, CLI, web) calls this after the ledger.
 */
export async function reportCreditChange(client: Client, change: CreditChange, at: Date = new Date()): Promise<'started_or_signalled' | 'signalled' | 'none'> {
  if (change.role !== 'agent') return 'none'
  const signal = { usable: change.usable.toString(), at: at.toISOString() }
  const workflowId = creditWatchWorkflowId(change.userId)
  if (change.usable < 0n) {
    const input: AgentCreditWatchInput = { agentUserId: change.userId }
    await client.workflow.signalWithStart(WORKFLOW_TYPES.agentCreditWatch, {
      taskQueue: MAIN_TASK_QUEUE,
      workflowId,
      args: [input],
      signal: creditChangedSignal,
      signalArgs: [signal],
    })
    return 'started_or_signalled'
  }
  if (!change.backToNonNegative) return 'none'
  try {
    await client.workflow.getHandle(workflowId).signal(creditChangedSignal, signal)
    return 'signalled'
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'none'
    throw error
  }
}
