import { WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowUpdateStage, type Client } from '@temporalio/client'
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common'

/**
 * What became of an update sent with `sendUpdate`:
 * - `done`: the workflow accepted it and its handler returned `result`;
 * - `refused`: the validator (or the handler) refused it with the typed refusal of the update;
 * - `accepted`: accepted, but the handler had not finished when the wait ended (it goes on in the workflow);
 * - `no_answer`: no worker took it before the wait ended, so nothing is known to have happened;
 * - `no_workflow`: no such workflow, or it has closed.
 */
export type UpdateAnswer<Ret, Refusal> =
  | { kind: 'done'; result: Ret }
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'accepted' }
  | { kind: 'no_answer' }
  | { kind: 'no_workflow' }

/** The typed refusal carried by a failed update (see temporal/messages.ts), or undefined for any other error. */
export function updateRefusal<Refusal>(error: unknown, refusalType: string): Refusal | undefined {
  if (!(error instanceof WorkflowUpdateFailedError)) return undefined
  const cause = error.cause
  if (!(cause instanceof ApplicationFailure) || cause.type !== refusalType) return undefined
  return cause.details?.[0] as Refusal | undefined
}

/**
 * Sends an update and waits for its answer, for at most `waitMs` in all. Unlike a signal, an update needs a worker
 * to answer it: without the bound a request would hang for as long as the workers are away. The validator's
 * refusal comes back at the accepted stage; the handler's result follows when it returns.
 */
export async function sendUpdate<Ret, Arg, Refusal>(
  client: Client,
  workflowId: string,
  update: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
  options: { refusalType: string; waitMs: number },
): Promise<UpdateAnswer<Ret, Refusal>> {
  const deadline = Date.now() + options.waitMs
  const handle = client.workflow.getHandle(workflowId)
  let started
  try {
    started = await client.withDeadline(deadline, () => handle.startUpdate(update, { args: [arg], waitForStage: WorkflowUpdateStage.ACCEPTED }))
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { kind: 'no_workflow' }
    if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { kind: 'no_answer' }
    throw error
  }
  try {
    return { kind: 'done', result: await client.withDeadline(deadline, () => started.result()) }
  } catch (error) {
    const refusal = updateRefusal<Refusal>(error, options.refusalType)
    if (refusal) return { kind: 'refused', refusal }
    if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return { kind: 'accepted' }
    throw error
  }
}
