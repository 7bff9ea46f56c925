import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common'
import {
  patched,
  proxyLocalActivities,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow'
import type { Activities } from '../activities.ts'

export const orderStatusKey = defineSearchAttributeKey('CustomKeywordField', SearchAttributeType.KEYWORD)
export const amountKey = defineSearchAttributeKey('CustomIntField', SearchAttributeType.INT)

/** Updates its search attributes and memo, then waits so the values can be read while it runs. */
export async function tagged(status: string, waitMs = 60 * 60 * 1000): Promise<string> {
  upsertSearchAttributes({ CustomKeywordField: [status], CustomIntField: [42] })
  upsertMemo({ note: `status is ${status}` })
  await sleep(waitMs)
  return String(workflowInfo().memo?.note)
}

export async function withLocalActivity(name: string): Promise<string> {
  const { greet } = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s' })
  return await greet(name)
}

export async function patchedWorkflow(): Promise<string> {
  return patched('new-greeting') ? 'new path' : 'old path'
}
