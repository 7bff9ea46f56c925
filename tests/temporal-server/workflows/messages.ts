import { ApplicationFailure, condition, defineQuery, defineSignal, defineUpdate, setHandler, sleep } from '@temporalio/workflow'

export const addItemSignal = defineSignal<[string]>('addItem')
export const finishSignal = defineSignal('finish')
export const itemsQuery = defineQuery<string[]>('items')
export const stageQuery = defineQuery<string>('stage')

/** Collects items from signals until `finish` arrives; answers queries throughout. */
export async function collector(input: { expect?: number } = {}): Promise<string[]> {
  const items: string[] = []
  let finished = false
  let stage = 'collecting'
  setHandler(addItemSignal, (item) => void items.push(item))
  setHandler(finishSignal, () => void (finished = true))
  setHandler(itemsQuery, () => items)
  setHandler(stageQuery, () => stage)
  await condition(() => finished || (input.expect !== undefined && items.length >= input.expect))
  stage = 'done'
  return items
}

/** Waits for a signal for a long time, then gives up. */
export async function waitForSignalOrTimeout(timeoutMs = 7 * 24 * 60 * 60 * 1000): Promise<string> {
  let got: string | undefined
  setHandler(addItemSignal, (item) => void (got = item))
  const arrived = await condition(() => got !== undefined, timeoutMs)
  return arrived ? `got ${got}` : 'timed out'
}

/** Takes several steps of workflow time, so signals can arrive while a workflow task runs. */
export async function busySignals(): Promise<number> {
  let count = 0
  setHandler(addItemSignal, () => void count++)
  for (let i = 0; i < 5; i++) await sleep(10)
  return count
}

export const approveUpdate = defineUpdate<string, [number]>('approve')
export const approvedQuery = defineQuery<number[]>('approved')

/** Takes approvals as updates (validated, possibly slow) until `finish`. */
export async function approvals(input: { slowMs?: number } = {}): Promise<number[]> {
  const approved: number[] = []
  let finished = false
  setHandler(
    approveUpdate,
    async (amount) => {
      if (amount === 13) throw ApplicationFailure.create({ type: 'Unlucky', message: 'amount 13 is refused by the handler' })
      if (amount >= 500) await sleep(input.slowMs ?? 3_600_000)
      approved.push(amount)
      return `approved ${amount}`
    },
    {
      validator: (amount) => {
        if (amount <= 0) throw new Error(`amount must be positive, got ${amount}`)
      },
    },
  )
  setHandler(approvedQuery, () => approved)
  setHandler(finishSignal, () => void (finished = true))
  await condition(() => finished)
  return approved
}
