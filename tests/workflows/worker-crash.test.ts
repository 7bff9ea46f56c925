import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { adjustWallet } from '#db/payments.ts'
import { placeOrder } from '#db/orders.ts'
import { orderStatusQuery, type OrderResult } from '#temporal/messages.ts'
import { ledgerEntries, panelUsers, replayHistories, startHarness, waitFor, type Harness } from './harness.ts'

/**
 * The worker as a separate process (`worker/main.ts`, as `npm run worker` runs it), so it can really be killed.
 */
let h: Harness
let child: ChildProcess | null = null
let output = ''
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

beforeAll(async () => {
  // Workers that die and come back need the real server: on the time-skipping test server (1.40.0) the workflow task
  // scheduled after the first worker is gone is never started by the new worker, and the order never completes.
  h = await startHarness('worker_crash', { startWorker: false, temporal: 'dev' })
})
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  child = null
  await h.stopWorker()
  h.marzban.latencyMs = 0
})
afterAll(async () => {
  await h?.teardown()
})

async function startWorkerProcess(): Promise<ChildProcess> {
  output = ''
  const proc = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts', '--no-periodic'], {
    cwd: ROOT,
    env: h.processEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  child = proc
  await waitFor('the worker process to start', () => output.includes('worker started') || proc.exitCode !== null, 60_000)
  if (proc.exitCode !== null) throw new Error(`worker process exited early:\n${output}`)
  return proc
}

const exited = (proc: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve({ code: proc.exitCode, signal: proc.signalCode })
    proc.once('exit', (code, signal) => resolve({ code, signal }))
  })

async function orderWithCreateInFlight(name: string) {
  const userId = await h.createCustomer(name)
  await adjustWallet(h.db, h.client, { userId, amount: '150000', note: 'test top-up', actorUserId: h.adminId })
  h.marzban.latencyMs = 2_500
  const seen = h.marzban.requests.length
  const placed = await placeOrder(h.db, h.client, { userId, planId: h.planId, locationId: h.locationId })
  h.started.add(placed.workflowId)
  await waitFor('the create to reach the panel', () => h.marzban.requests.slice(seen).some((r) => r.method === 'POST' && r.path === '/api/user'), 60_000)
  return { orderId: placed.order.id, handle: h.client.workflow.getHandle<() => Promise<OrderResult>>(placed.workflowId) }
}

describe('worker processes', () => {
  test('a worker killed mid-provisioning: a new worker completes the order, nothing doubled', async () => {
    const proc = await startWorkerProcess()
    const { orderId, handle } = await orderWithCreateInFlight('crash-victim')
    proc.kill('SIGKILL')
    expect((await exited(proc)).signal).toBe('SIGKILL')
    h.marzban.latencyMs = 0

    await h.startWorker()
    const result = await handle.result()
    expect(result.outcome).toBe('delivered')
    const status = await handle.query(orderStatusQuery)
    // The first attempt died with its worker (heartbeat timeout); the second found the user the first had made.
    expect(status.attempt).toBe(2)
    expect(panelUsers(h.marzban).filter((u) => u.username === `fp_${orderId}`)).toHaveLength(1)
    expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: orderId })).map((e) => e.type)).toEqual(['ORDER_DEBIT'])
    expect(await h.db('accounts').where({ orderId }).count({ n: '*' }).first()).toEqual({ n: '1' })
  })

  test('SIGTERM lets the running activity finish before the worker exits', async () => {
    const proc = await startWorkerProcess()
    const { orderId, handle } = await orderWithCreateInFlight('graceful')
    proc.kill('SIGTERM')
    expect(await exited(proc)).toEqual({ code: 0, signal: null })
    expect(output).toContain('SIGTERM received: finishing running activities, then stopping')
    expect(output).toContain('worker stopped')

    await h.startWorker()
    const result = await handle.result()
    expect(result.outcome).toBe('delivered')
    // The create finished on the stopping worker: no second attempt was needed.
    expect((await handle.query(orderStatusQuery)).attempt).toBe(1)
    expect(panelUsers(h.marzban).filter((u) => u.username === `fp_${orderId}`)).toHaveLength(1)
  })
})

describe('replay', () => {
  test('every finished workflow of this file replays without nondeterminism', async () => {
    const { replayed, errors } = await replayHistories(h, h.started, 'worker-crash')
    expect(errors).toEqual([])
    expect(replayed).toBe(h.started.size)
  })
})
