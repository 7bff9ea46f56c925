import {
  ChildWorkflowFailure,
  ParentClosePolicy,
  CancellationScope,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  startChild,
  workflowInfo,
} from '@temporalio/workflow'
import { addItemSignal, collector } from './messages.ts'
import { failing, longRunning, quick } from './lifecycle.ts'

export async function parentOfSuccess(): Promise<string> {
  return await executeChild(quick, { args: ['from child'], workflowId: `${workflowInfo().workflowId}-child` })
}

export async function parentOfFailure(): Promise<string> {
  try {
    await executeChild(failing, { args: ['child broke'], workflowId: `${workflowInfo().workflowId}-child` })
    return 'no failure'
  } catch (error) {
    if (error instanceof ChildWorkflowFailure) return `child failed: ${error.cause?.message}`
    throw error
  }
}

export async function parentCancelsChild(): Promise<string> {
  const scope = new CancellationScope()
  const child = await scope.run(() => startChild(longRunning, { workflowId: `${workflowInfo().workflowId}-child` }))
  scope.cancel()
  try {
    await child.result()
    return 'child finished'
  } catch (error) {
    return isCancellation(error) ? 'child cancelled' : `other: ${String(error)}`
  }
}

/** Starts a child and signals it through an external handle. */
export async function parentSignalsChild(): Promise<string[]> {
  const childId = `${workflowInfo().workflowId}-child`
  const child = await startChild(collector, { args: [{ expect: 2 }], workflowId: childId })
  await child.signal(addItemSignal, 'one')
  await getExternalWorkflowHandle(childId).signal(addItemSignal, 'two')
  return await child.result()
}

/** Starts a child that waits for signals, then completes at once with the given parent-close policy. */
export async function parentAbandonsOrTerminates(policy: 'terminate' | 'abandon'): Promise<string> {
  const child = await startChild(collector, {
    workflowId: `${workflowInfo().workflowId}-child`,
    parentClosePolicy: policy === 'abandon' ? ParentClosePolicy.ABANDON : ParentClosePolicy.TERMINATE,
  })
  return child.workflowId
}

export async function cancelExternal(targetId: string): Promise<string> {
  await getExternalWorkflowHandle(targetId).cancel()
  return 'requested'
}
