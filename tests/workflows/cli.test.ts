import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { orderStatusQuery, retryNowSignal } from '#temporal/messages.ts'
import { cliInProcess } from '#tests/setup/cli.ts'
import { panelUsers, startHarness, waitFor, type Harness } from './harness.ts'

/**
 * The admin CLI against the test server, the test database and the fake panel: a few commands as a real process
 * (`bin/flowpanel.ts`, exit codes and all), the rest in this process through the same command registry (much faster).
 */
let h: Harness
let planId = ''
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const run = promisify(execFile)

const saved: Record<string, string | undefined> = {}
beforeAll(async () => {
  // `workflows stuck` lists running workflows: that needs visibility, so the CLI dev server.
  h = await startHarness('cli', { temporal: 'dev' })
  // The in-process commands read their configuration from the environment, like the real CLI.
  for (const [k, v] of Object.entries({ DATABASE_URL: h.dbUrl, TEMPORAL_ADDRESS: h.env.address, APP_SECRET: h.appEnv.APP_SECRET, REDIS_URL: h.redisUrl })) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
  await h.db('paymentMethods').insert({ kind: 'CARD', titleFa: 'کارت', titleEn: 'Card' })
})
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  await h?.teardown()
})

/** Runs a command in this process, as bin/flowpanel.ts would, capturing what it prints. */
function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliInProcess(argv)
}

/** Runs the real CLI process. */
async function cliProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bin/flowpanel.ts', ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        DATABASE_URL: h.dbUrl,
        REDIS_URL: h.redisUrl,
        TEMPORAL_ADDRESS: h.env.address,
        APP_SECRET: h.appEnv.APP_SECRET,
      },
      timeout: 60_000,
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

describe('admin CLI', () => {
  test('agent, plan, wallet, order with --wait, order status, payment and account delete go through the same services', async () => {
    expect(await cli('agent', 'create', '--username', 'cli-agent', '--password', 'secret-password', '--shop', 'Corner shop')).toMatchObject({ code: 0 })
    expect((await cli('customer', 'create', '--username', 'cli-customer')).stdout).toMatch(/customer "cli-customer" created/)
    expect((await cli('plan', 'add', '--name', 'Bad', '--days', '30', '--gb', 'lots', '--price', '1', '--agent-price', '1')).stderr).toMatch(/--gb: "lots" is not a size in GB/)
    const plan = await cli('plan', 'add', '--name', 'Month 20', '--days', '30', '--gb', '20', '--price', '100000', '--agent-price', '80,000', '--location', 'de')
    expect(plan.stdout).toMatch(/plan "Month 20" added \(id \d+\): 30 days, 20 GB, price 100000, agent price 80000, in de/)
    planId = /id (\d+)/.exec(plan.stdout)![1]!

    const refused = await cli('order', 'create', '--user', 'cli-agent', '--plan', planId)
    expect(refused).toMatchObject({ code: 1, stderr: 'order refused: Not enough credit: this costs 80,000 but only 0 is available. Top up or pay by receipt.\n' })
    expect((await cli('wallet', 'adjust', '--user', 'cli-agent', '--amount', '100000', '--note', 'opening credit')).stdout).toMatch(/adjusted: cli-agent now has 100,000 confirmed/)

    const ordered = await cliProcess('order', 'create', '--user', 'cli-agent', '--plan', planId, '--wait')
    expect(ordered.code).toBe(0)
    expect(ordered.stdout).toMatch(/order #\d+ placed \(order-\d+\), price 80000\ndelivered: http:\/\/127\.0\.0\.1:\d+\/sub\/\S+\n/)
    const orderId = /order #(\d+)/.exec(ordered.stdout)![1]!
    expect((await cli('order', 'status', orderId)).stdout).toMatch(new RegExp(`order #${orderId}: delivered \\(new, pay by wallet, price 80000\\)\\nstep: delivered, attempt 1\\nlink: http`))

    const submitted = await cli('payment', 'submit', '--user', 'cli-customer', '--amount', '50000', '--method', 'card')
    expect(submitted.stdout).toMatch(/payment #\d+ submitted \(payment-\d+\): 50000 pending for cli-customer/)
    const paymentId = /#(\d+)/.exec(submitted.stdout)![1]!
    expect(await cli('payment', 'decide', paymentId, 'approve', '--note', 'on statement')).toMatchObject({
      code: 0,
      stdout: `Payment #${paymentId} approved; the payer's usable credit is now 50000\n`,
    })
    const again = await cliProcess('payment', 'decide', paymentId, 'reject')
    expect(again.code).toBe(1)
    expect(again.stdout).toMatch(new RegExp(`^Payment #${paymentId} was already approved by admin #${h.adminId}`))

    const accountId = String((await h.db('accounts').where({ orderId: Number(orderId) }).first('id')).id)
    const quote = await cli('account', 'delete', accountId)
    expect(quote.stdout).toMatch(/account #\d+ \(fp_\d+\): paid 80,000, refund 80,000 — full refund \(new account, little traffic used\)/)
    expect(quote.stdout).toMatch(/nothing done: run again with --yes/)
    expect(panelUsers(h.marzban).some((u) => u.username === `fp_${orderId}`)).toBe(true)
    const deleted = await cli('account', 'delete', accountId, '--yes', '--reason', 'customer left')
    expect(deleted.stdout).toMatch(/account #\d+ removed; 80,000 refunded \(refund-\d+\)/)
    expect(panelUsers(h.marzban).some((u) => u.username === `fp_${orderId}`)).toBe(false)
  })

  test('workflows stuck lists an order whose panel keeps failing, and nothing once it recovers', async () => {
    expect(await cli('workflows', 'stuck')).toMatchObject({ code: 0, stdout: 'no stuck workflows\n' })
    await h.marzban.down()
    let workflowId = ''
    try {
      const placed = await cli('order', 'create', '--user', 'cli-agent', '--plan', planId)
      workflowId = /\((order-\d+)\)/.exec(placed.stdout)![1]!
      const handle = h.client.workflow.getHandle(workflowId)
      await waitFor('a failed attempt', async () => (await handle.query(orderStatusQuery)).lastError)
      const stuck = await cli('workflows', 'stuck')
      expect(stuck.code).toBe(1)
      expect(stuck.stdout).toMatch(new RegExp(`^${workflowId}\\torderToProvision\\tstarted \\S+\\tprovisioning, attempt \\d+: .+is unreachable`))
    } finally {
      await h.marzban.up()
    }
    const handle = h.client.workflow.getHandle(workflowId)
    await handle.signal(retryNowSignal)
    await handle.result()
    expect(await cli('workflows', 'stuck')).toMatchObject({ code: 0 })
  })
})
