import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { WorkflowNotFoundError } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { requestRefund } from '#db/accounts.ts'
import { checkLedger } from '#db/ledger.ts'
import { placeOrder } from '#db/orders.ts'
import { adjustWallet, decidePayment, submitPayment } from '#db/payments.ts'
import { listReconciliations } from '#db/reconcile.ts'
import { createBroadcast } from '#db/telegram.ts'
import {
  orderStatusQuery,
  refundStatusQuery,
  WORKFLOW_TYPES,
  type OrderResult,
  type ReconcilePassInput,
  type ReconcilePassSummary,
  type ReconciledItem,
} from '#temporal/messages.ts'
import { MAIN_TASK_QUEUE } from '#temporal/task-queues.ts'
import { MAX_RESTARTS } from '#workflows/reconcile/rules.ts'
import { parseArgv } from '../../bin/cli.ts'
import { loadCommands } from '../../bin/commands/index.ts'
import { ledgerEntries, panelUsers, replayHistories, startHarness, waitFor, type Harness } from './harness.ts'

/**
 * The reconciler on the CLI dev server, in real time: work whose workflow was lost — a process killed between the
 * order's insert and its workflow start, workflows terminated by hand, row writes that never happened — is started
 * again or settled by a `reconcilePass`, exactly once, and the ledger stays exact.
 */
let h: Harness
let methodId: number
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
let passes = 0
const saved: Record<string, string | undefined> = {}

beforeAll(async () => {
  h = await startHarness('reconcile', { temporal: 'dev' })
  const [method] = await h.db('paymentMethods').insert({ kind: 'CARD', titleFa: 'کارت', titleEn: 'Card' }).returning('id')
  methodId = method.id
  // The CLI commands read their configuration from the environment, like the real CLI.
  for (const [k, v] of Object.entries({ DATABASE_URL: h.dbUrl, TEMPORAL_ADDRESS: h.env.address, APP_SECRET: h.appEnv.APP_SECRET, REDIS_URL: h.redisUrl })) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
})
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  await h?.teardown()
})

/** Runs a CLI command in this process, as bin/flowpanel.ts would, capturing what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string }> {
  const { words, flags } = parseArgv(argv)
  const command = (await loadCommands()).find((c) => c.name.every((w, i) => words[i] === w))
  if (!command) throw new Error(`no command ${words.join(' ')}`)
  let stdout = ''
  const code = await command.run({ args: words.slice(command.name.length), flags, out: (line) => (stdout += line + '\n') })
  return { code, stdout }
}

async function fund(userId: number, amount: string) {
  await adjustWallet(h.db, h.client, { userId, amount, note: 'test top-up', actorUserId: h.adminId })
}

/** One pass, as the schedule runs it, but for rows of any age. */
async function reconcile(): Promise<ReconcilePassSummary> {
  const workflowId = `reconcile-test-${++passes}`
  h.started.add(workflowId)
  const input: ReconcilePassInput = { minAgeMs: 0 }
  return h.client.workflow.execute(WORKFLOW_TYPES.reconcilePass, { taskQueue: MAIN_TASK_QUEUE, workflowId, args: [input] })
}

function itemFor(summary: ReconcilePassSummary, kind: ReconciledItem['kind'], id: number): ReconciledItem | undefined {
  return summary.reconciled.find((r) => r.kind === kind && r.id === id)
}

/** Runs tests/workflows/support/place-order-and-die.ts: a process that dies after the insert, before the start. */
async function placeAndDie(userId: number, key: string): Promise<{ signal: string | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/workflows/support/place-order-and-die.ts', String(userId), String(h.planId), String(h.locationId), key], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', DATABASE_URL: h.dbUrl, TEMPORAL_ADDRESS: h.env.address, TEMPORAL_NAMESPACE: h.env.namespace },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const signal = await new Promise<string | null>((resolve) => child.once('exit', (_code: number | null, sig: string | null) => resolve(sig)))
  return { signal, output }
}

async function orderResult(orderId: number): Promise<OrderResult> {
  return h.client.workflow.getHandle<() => Promise<OrderResult>>(`order-${orderId}`).result()
}

describe('the reconciler', () => {
  test('an order whose placing process was killed between the insert and the workflow start is found, started and delivered once', async () => {
    const userId = await h.createCustomer('crashed-buyer')
    await fund(userId, '150000')
    const died = await placeAndDie(userId, 'web:crash-1')
    expect(died, died.output).toMatchObject({ signal: 'SIGKILL' })
    const row = await h.db('orders').where({ userId, idempotencyKey: 'web:crash-1' }).first()
    expect(row).toMatchObject({ status: 'pending', workflowId: `order-${row.id}` })
    await expect(h.client.workflow.getHandle(`order-${row.id}`).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError)
    // Its price is spoken for even though no workflow runs it yet: a second order on the same credit is refused.
    await expect(placeOrder(h.db, h.client, { userId, planId: h.planId, locationId: h.locationId })).rejects.toMatchObject({ code: 'INSUFFICIENT_CREDIT' })

    const pass = await reconcile()
    h.started.add(`order-${row.id}`)
    expect(itemFor(pass, 'order', row.id)).toMatchObject({ found: 'missing', action: 'restarted', why: 'no workflow' })
    expect(await orderResult(row.id)).toMatchObject({ outcome: 'delivered' })
    expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: row.id })).map((e) => [e.type, e.confirmedDelta])).toEqual([['ORDER_DEBIT', '-150000']])
    expect(panelUsers(h.marzban).filter((u) => u.username === `fp_${row.id}`)).toHaveLength(1)
    const audit = await h.db('auditLog').where({ action: 'reconcile.restarted', targetType: 'order', targetId: String(row.id) })
    expect(audit).toHaveLength(1)
    expect(audit[0].actorUserId).toBeNull()
  })

  test('placing again with the same key after such a crash returns the same order and starts its workflow', async () => {
    const userId = await h.createCustomer('retrying-buyer')
    await fund(userId, '150000')
    expect((await placeAndDie(userId, 'api:crash-2')).signal).toBe('SIGKILL')
    const again = await placeOrder(h.db, h.client, { userId, planId: h.planId, locationId: h.locationId, idempotencyKey: 'api:crash-2' })
    h.started.add(again.workflowId)
    expect(again.created).toBe(false)
    expect(await h.db('orders').where({ userId })).toHaveLength(1)
    expect(await orderResult(again.order.id)).toMatchObject({ outcome: 'delivered' })
    expect(await ledgerEntries(h.db, { referenceType: 'order', referenceId: again.order.id })).toHaveLength(1)
  })

  test('an order workflow terminated by hand after its debit is started again and delivers, debited once', async () => {
    const userId = await h.createCustomer('terminated-buyer')
    await fund(userId, '150000')
    await h.marzban.down()
    let orderId: number
    try {
      const placed = await placeOrder(h.db, h.client, { userId, planId: h.planId, locationId: h.locationId })
      orderId = placed.order.id
      h.started.add(placed.workflowId)
      const handle = h.client.workflow.getHandle(placed.workflowId)
      await waitFor('a failed provisioning attempt', async () => (await handle.query(orderStatusQuery)).lastError)
      await handle.terminate('stopped by hand')
      expect((await h.db('orders').where({ id: orderId }).first()).status).toBe('provisioning')
    } finally {
      await h.marzban.up()
    }
    const pass = await reconcile()
    expect(itemFor(pass, 'order', orderId)).toMatchObject({ found: 'terminated', action: 'restarted', why: 'workflow terminated: stopped by hand' })
    expect(await orderResult(orderId)).toMatchObject({ outcome: 'delivered' })
    expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: orderId })).map((e) => e.type)).toEqual(['ORDER_DEBIT'])
    expect(panelUsers(h.marzban).filter((u) => u.username === `fp_${orderId}`)).toHaveLength(1)
  })

  test(`an order whose workflow is terminated again after ${MAX_RESTARTS} restarts is refunded exactly once and marked failed with the reason`, async () => {
    const userId = await h.createCustomer('unlucky-buyer', { telegramId: '5301' })
    await fund(userId, '150000')
    await h.marzban.down()
    try {
      const placed = await placeOrder(h.db, h.client, { userId, planId: h.planId, locationId: h.locationId })
      const orderId = placed.order.id
      h.started.add(placed.workflowId)
      const handle = h.client.workflow.getHandle(placed.workflowId)
      for (let round = 0; round <= MAX_RESTARTS; round++) {
        await waitFor('a failed provisioning attempt', async () => (await handle.query(orderStatusQuery)).lastError)
        await handle.terminate(`stopped by hand, round ${round}`)
        const pass = await reconcile()
        const item = itemFor(pass, 'order', orderId)
        if (round < MAX_RESTARTS) {
          expect(item).toMatchObject({ action: 'restarted' })
          continue
        }
        expect(item).toMatchObject({ found: 'terminated', action: 'settled', outcome: 'failed', refunded: '150000' })
      }
      const row = await h.db('orders').where({ id: orderId }).first()
      expect(row.status).toBe('failed')
      expect(row.failureReason).toBe(`workflow terminated: stopped by hand, round ${MAX_RESTARTS}, after ${MAX_RESTARTS} restarts`)
      expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: orderId })).map((e) => [e.type, e.confirmedDelta])).toEqual([
        ['ORDER_DEBIT', '-150000'],
        ['ORDER_REFUND', '150000'],
      ])
      expect(h.telegram.messages('5301').filter((m) => m.text.includes(`#${orderId}`))).toHaveLength(1)
      // Settled: the next pass leaves it alone, and nothing is refunded twice.
      expect(itemFor(await reconcile(), 'order', orderId)).toBeUndefined()
      expect(await ledgerEntries(h.db, { referenceType: 'order', referenceId: orderId })).toHaveLength(2)
    } finally {
      await h.marzban.up()
    }
  })

  test('a receipt whose workflow was terminated can be decided again once the reconciler has started it', async () => {
    const userId = await h.createCustomer('receipt-payer')
    const { payment, workflowId } = await submitPayment(h.db, h.client, { userId, methodId, amount: '70000' })
    h.started.add(workflowId)
    await waitFor('the pending charge', async () => (await ledgerEntries(h.db, { referenceType: 'payment', referenceId: payment.id })).length === 1)
    await h.client.workflow.getHandle(workflowId).terminate('stopped by hand')
    expect(await decidePayment(h.client, payment.id, { decision: 'approve', adminId: h.adminId })).toMatchObject({ ok: false })

    expect(itemFor(await reconcile(), 'payment', payment.id)).toMatchObject({ found: 'terminated', action: 'restarted' })
    expect(await decidePayment(h.client, payment.id, { decision: 'approve', adminId: h.adminId, note: 'seen' })).toMatchObject({ ok: true, decided: { outcome: 'approved' } })
    expect((await ledgerEntries(h.db, { referenceType: 'payment', referenceId: payment.id })).map((e) => e.type)).toEqual(['CHARGE_PENDING', 'CHARGE_APPROVED'])
    expect(await h.db('wallets').where({ userId }).first('confirmed', 'pending')).toEqual({ confirmed: '70000', pending: '0' })
  })

  test('an order waiting for its receipt, whose workflow was terminated before the receipt was approved, is started again and delivered on that approval', async () => {
    const userId = await h.createCustomer('receipt-buyer')
    const placed = await placeOrder(h.db, h.client, { userId, planId: h.planId, locationId: h.locationId, payMethod: 'receipt' })
    h.started.add(placed.workflowId)
    const handle = h.client.workflow.getHandle<() => Promise<OrderResult>>(placed.workflowId)
    await waitFor('the order to wait for its payment', async () => (await handle.query(orderStatusQuery)).step === 'awaiting_payment')
    await handle.terminate('stopped by hand')
    const { payment, workflowId } = await submitPayment(h.db, h.client, { userId, methodId, amount: '150000', orderId: placed.order.id })
    h.started.add(workflowId)
    expect(await decidePayment(h.client, payment.id, { decision: 'approve', adminId: h.adminId })).toMatchObject({ ok: true })
    await h.client.workflow.getHandle(workflowId).result()

    expect(itemFor(await reconcile(), 'order', placed.order.id)).toMatchObject({ found: 'terminated', action: 'restarted' })
    expect(await handle.result()).toMatchObject({ outcome: 'delivered' })
    expect((await ledgerEntries(h.db, { userId })).map((e) => e.type)).toEqual(['CHARGE_PENDING', 'CHARGE_APPROVED', 'ORDER_DEBIT'])
  })

  test('rows whose workflow completed but whose last write was lost are settled from the ledger and from the result', async () => {
    const userId = await h.createCustomer('lost-writes')
    const { payment, workflowId } = await submitPayment(h.db, h.client, { userId, methodId, amount: '150000' })
    h.started.add(workflowId)
    await decidePayment(h.client, payment.id, { decision: 'approve', adminId: h.adminId, note: 'ok' })
    await h.client.workflow.getHandle(workflowId).result()
    const placed = await placeOrder(h.db, h.client, { userId, planId: h.planId, locationId: h.locationId })
    h.started.add(placed.workflowId)
    const delivered = await orderResult(placed.order.id)
    // As if the process died before each last row write.
    await h.db('payments').where({ id: payment.id }).update({ status: 'PENDING', decidedBy: null, decidedAt: null })
    await h.db('orders').where({ id: placed.order.id }).update({ status: 'provisioning', accountId: null })

    const pass = await reconcile()
    expect(itemFor(pass, 'payment', payment.id)).toMatchObject({ found: 'completed', action: 'settled', outcome: 'APPROVED' })
    expect(itemFor(pass, 'order', placed.order.id)).toMatchObject({ found: 'completed', action: 'settled', outcome: 'delivered' })
    expect(await h.db('payments').where({ id: payment.id }).first()).toMatchObject({ status: 'APPROVED', decidedBy: h.adminId })
    expect(await h.db('orders').where({ id: placed.order.id }).first()).toMatchObject({ status: 'delivered', accountId: delivered.accountId })
    expect((await ledgerEntries(h.db, { userId })).map((e) => e.type)).toEqual(['CHARGE_PENDING', 'CHARGE_APPROVED', 'ORDER_DEBIT'])
  })

  test('a refund terminated while its panel is away is started again and refunds exactly once', async () => {
    const userId = await h.createCustomer('refund-buyer')
    await fund(userId, '150000')
    const placed = await placeOrder(h.db, h.client, { userId, planId: h.planId, locationId: h.locationId })
    h.started.add(placed.workflowId)
    const { accountId } = await orderResult(placed.order.id)
    await h.marzban.down()
    try {
      const { workflowId } = await requestRefund(h.db, h.client, { accountId: accountId!, requestedBy: userId, reason: 'changed my mind' })
      h.started.add(workflowId)
      const handle = h.client.workflow.getHandle(workflowId)
      await waitFor('the panel step to fail', async () => (await handle.query(refundStatusQuery)).lastError)
      await handle.terminate('stopped by hand')
    } finally {
      await h.marzban.up()
    }
    const refund = await h.db('refunds').where({ accountId }).first()
    expect(refund).toMatchObject({ status: 'running', requestedBy: userId, reason: 'changed my mind' })

    expect(itemFor(await reconcile(), 'refund', refund.id)).toMatchObject({ found: 'terminated', action: 'restarted' })
    await h.client.workflow.getHandle(`refund-${accountId}`).result()
    expect(await h.db('refunds').where({ id: refund.id }).first()).toMatchObject({ status: 'done', amount: '150000' })
    expect((await ledgerEntries(h.db, { referenceType: 'order', referenceId: placed.order.id })).map((e) => [e.type, e.confirmedDelta])).toEqual([
      ['ORDER_DEBIT', '-150000'],
      ['ORDER_REFUND', '150000'],
    ])
    expect((await h.db('accounts').where({ id: accountId }).first()).status).toBe('deleted')
    expect(panelUsers(h.marzban).filter((u) => u.username === `fp_${placed.order.id}`)).toHaveLength(0)
  })

  test('a broadcast whose workflow never started is started by the reconciler', async () => {
    await h.createCustomer('listener', { telegramId: '5302' })
    const broadcast = await createBroadcast(h.db, { createdBy: h.adminId, text: 'maintenance tonight', audience: 'all' })
    expect(itemFor(await reconcile(), 'broadcast', broadcast.id)).toMatchObject({ found: 'missing', action: 'restarted' })
    h.started.add(`broadcast-${broadcast.id}`)
    await h.client.workflow.getHandle(`broadcast-${broadcast.id}`).result()
    // Everyone with a Telegram chat: this listener and the buyer of an earlier test.
    expect(await h.db('broadcasts').where({ id: broadcast.id }).first()).toMatchObject({ status: 'done', total: 2, delivered: 2, failed: 0 })
    expect(h.telegram.messages('5302').filter((m) => m.text.includes('maintenance tonight'))).toHaveLength(1)
  })

  test('workflows stuck lists work whose workflow is lost, and workflows reconciled what the reconciler did about it', async () => {
    const userId = await h.createCustomer('cli-crash')
    await fund(userId, '150000')
    expect((await placeAndDie(userId, 'web:crash-cli')).signal).toBe('SIGKILL')
    const row = await h.db('orders').where({ userId }).first('id')
    const stuck = await cli('workflows', 'stuck')
    expect(stuck.code).toBe(1)
    expect(stuck.stdout).toContain(`order-${row.id}\tno workflow\torder #${row.id} is pending\tthe next reconcile pass starts it again\n`)

    await reconcile()
    h.started.add(`order-${row.id}`)
    await orderResult(row.id)
    const reconciled = await cli('workflows', 'reconciled', '--limit', '1')
    expect(reconciled.code).toBe(0)
    expect(reconciled.stdout).toMatch(new RegExp(`^\\S+Z\\torder #${row.id} \\(order-${row.id}\\)\\tstarted again\\tno workflow\\n$`))
    expect((await cli('workflows', 'reconciled')).stdout).toMatch(/order #\d+ \(order-\d+\)\tsettled as failed, 150000 refunded\tworkflow terminated: stopped by hand, round 3, after 3 restarts/)
    expect(await cli('workflows', 'stuck')).toMatchObject({ code: 0, stdout: 'no stuck workflows\n' })
    await expect(cli('workflows', 'reconciled', '--limit', 'ten')).rejects.toThrow(/--limit must be a whole number/)
  })

  test('afterwards the ledger checks, a further pass changes nothing, and every reconciliation is listed once', async () => {
    expect(await checkLedger(h.db)).toMatchObject({ ok: true, problems: [] })
    const before = await h.db('auditLog').where('action', 'like', 'reconcile.%').count({ n: '*' }).first()
    const pass = await reconcile()
    expect(pass).toMatchObject({ reconciled: [], problems: [] })
    expect(await h.db('auditLog').where('action', 'like', 'reconcile.%').count({ n: '*' }).first()).toEqual(before)
    const listed = await listReconciliations(h.db, { limit: 100 })
    expect(listed).toHaveLength(Number(before!.n))
    expect(new Set(listed.map((r) => r.auditId)).size).toBe(listed.length)
  })

  test('every finished workflow of this file replays without nondeterminism', async () => {
    const { replayed, errors } = await replayHistories(h, h.started, 'reconcile')
    expect(errors).toEqual([])
    expect(replayed).toBeGreaterThan(10)
  })
})
