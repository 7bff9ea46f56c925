import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Client, Connection } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db } from '#db/knex.ts'
import { orderStatusQuery, type OrderStatus } from '#temporal/messages.ts'
import { embeddedDatabaseUrl, readEmbeddedPostgresInfo } from '../../../bin/start/data-dir.ts'
import { freePort } from '../../../bin/start/processes.ts'
import { startFakeMarzban, type FakeMarzban } from '../../fakes/marzban.ts'
import { ctrlC, killStarted, processesUsingDataDir, runCli, signIn, startProcess, waitFor, type CliResult, type Running } from './run.ts'

/**
 * Work in flight survives a stop of `npm start` on the real Temporal (the CLI dev server with its SQLite history):
 * a customer's order paid by a card receipt waits for an admin, and an agent's wallet order keeps retrying a panel
 * that is down. npm start is stopped and started again on the same data; then the approval delivers the one order
 * and the panel coming back delivers the other, each exactly once. One install goes through three rounds, one per
 * way of stopping: Ctrl-C; SIGKILL of every process it ran (a power cut); SIGKILL of npm start alone, which leaves
 * its Postgres, redis-server and Temporal dev server running for the next start to stop. The fake panels run in
 * this process, so they outlive every restart of the app.
 */

const PRICE = 100_000
const AGENT_PRICE = 90_000
const AGENT_CREDIT = 1_000_000
const PASSWORD = 'durable-orders-2024'
/** A 1×1 PNG: the receipt photo. */
const RECEIPT_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, describeLast?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      const value = await fn()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    await sleep(500)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}${describeLast ? `\n${describeLast()}` : ''}`)
}

/** pid → parent pid, for every process (Linux /proc). */
function parents(): Map<number, number> {
  const map = new Map<number, number>()
  for (const entry of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      // The command name (field 2) may hold spaces and parentheses: the fields after it start at the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      map.set(Number(entry), ppid)
    } catch {}
  }
  return map
}

function descendants(root: number): number[] {
  const tree = parents()
  const out: number[] = []
  let frontier = [root]
  while (frontier.length > 0) {
    const next: number[] = []
    for (const [pid, ppid] of tree) if (frontier.includes(ppid)) next.push(pid)
    out.push(...next)
    frontier = next
  }
  return out
}

/** Gone, or a zombie nobody reaped yet (it holds nothing: no port, no file). */
function isGone(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch {
    return true
  }
}

function pidFromFile(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]!.trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** The pid files npm start's children leave in the data directory: Temporal dev server, redis-server, Postgres. */
function pidFiles(dataDir: string): Record<'temporal' | 'redis' | 'postgres', string> {
  return {
    temporal: path.join(dataDir, 'temporal', 'dev-server.pid'),
    redis: path.join(dataDir, 'redis', 'redis.pid'),
    postgres: path.join(dataDir, 'pg', 'postmaster.pid'),
  }
}

/** Every process of an `npm start` tree that still lives, including its detached children found by their pid files or command lines. */
function processTree(run: Running, dataDir: string): Set<number> {
  const pids = new Set<number>([run.child.pid!, ...descendants(run.child.pid!)])
  for (const file of Object.values(pidFiles(dataDir))) {
    const pid = pidFromFile(file)
    if (pid !== undefined && !isGone(pid)) {
      pids.add(pid)
      for (const child of descendants(pid)) pids.add(child)
    }
  }
  for (const line of processesUsingDataDir(dataDir)) pids.add(Number(line.split(':')[0]))
  return new Set([...pids].filter((pid) => !isGone(pid)))
}

function killAll(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
}

async function holdPort(port: number): Promise<{ close: () => Promise<void> }> {
  const server = net.createServer()
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()))
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

interface Banner {
  url: string
  temporal: string
}

function readBanner(run: Running): Promise<Banner> {
  return waitFor(
    'the banner',
    () => {
      const url = /flowpanel is running: (\S+)/.exec(run.stdout())?.[1]
      const temporal = /^\s*Temporal: (\S+)/m.exec(run.stdout())?.[1]
      return url && temporal ? { url, temporal } : undefined
    },
    run,
    180_000,
  )
}

/** A signed-in browser without JavaScript: its cookies, and form posts with the CSRF token. */
async function webSession(base: string, username: string, password: string) {
  const page = await fetch(`${base}/login`)
  const csrf = /name="_csrf"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="_csrf"/.exec(await page.text())
  if (!csrf) throw new Error('the login page has no CSRF field')
  const token = csrf[1] ?? csrf[2]!
  const csrfCookie = page.headers.getSetCookie().map((c) => c.split(';')[0])
  const login = await signIn(base, username, password)
  expect(login.status).toBe(302)
  const cookie = [...csrfCookie, ...login.headers.getSetCookie().map((c) => c.split(';')[0])].join('; ')
  return {
    post: (pathname: string, fields: Record<string, string>) =>
      fetch(`${base}${pathname}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie, Origin: base },
        body: new URLSearchParams({ _csrf: token, ...fields }),
      }),
  }
}

async function temporalClient(address: string): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({ address })
  return { client: new Client({ connection, namespace: 'default' }), close: () => connection.close() }
}

async function describeRuns(address: string, workflowIds: string[]): Promise<Record<string, { status: string; runId: string }>> {
  const { client, close } = await temporalClient(address)
  try {
    const out: Record<string, { status: string; runId: string }> = {}
    for (const id of workflowIds) {
      const d = await client.workflow.getHandle(id).describe()
      out[id] = { status: d.status.name, runId: d.runId }
    }
    return out
  } finally {
    await close()
  }
}

async function orderStatus(address: string, workflowId: string): Promise<OrderStatus> {
  const { client, close } = await temporalClient(address)
  try {
    return await client.workflow.getHandle(workflowId).query(orderStatusQuery)
  } finally {
    await close()
  }
}

const variants = [
  { name: 'Ctrl-C', stop: 'ctrl-c' },
  { name: 'SIGKILL of every process npm start ran', stop: 'kill' },
  { name: 'SIGKILL of npm start alone, its servers left running', stop: 'kill-npm' },
] as const

describe('orders in flight survive a stop of npm start and are delivered exactly once after the next start', () => {
  let dataDir: string
  let redisUrl: string
  let panelUp: FakeMarzban
  let panelDown: FakeMarzban
  let run: Running
  let banner: Banner
  let cliEnv: Record<string, string>
  let planId: string
  let decoy: ChildProcess | undefined
  const times: Record<string, number> = {}

  // A periodic health pass while the agent's panel is down would mark it down, and selection would then wait for the
  // next pass after the panel is back: passes run once, at the first start (no panels yet), and not during the test.
  const appEnv = () => ({ REDIS_URL: redisUrl, UPLOAD_DIR: path.join(dataDir, 'uploads'), PERIODIC_INTERVAL: '24h' })
  const withDb = async <T>(fn: (db: Db) => Promise<T>): Promise<T> => {
    const conn = createDb(embeddedDatabaseUrl(readEmbeddedPostgresInfo(dataDir)!), { pool: { min: 0, max: 2 } })
    try {
      return await fn(conn)
    } finally {
      await conn.destroy()
    }
  }
  const orderRow = (id: number) => withDb(async (conn) => conn('orders').where({ id }).first('status'))
  const cli = async (...args: string[]): Promise<CliResult> => {
    const result = await runCli(args, cliEnv)
    if (result.code !== 0) throw new Error(`cli ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`)
    return result
  }
  const startApp = async () => {
    run = await startProcess(dataDir, appEnv())
    banner = await readBanner(run)
    cliEnv = {
      ...appEnv(),
      FLOWPANEL_DATA_DIR: dataDir,
      DATABASE_URL: embeddedDatabaseUrl(readEmbeddedPostgresInfo(dataDir)!),
      APP_SECRET: (await fsp.readFile(path.join(dataDir, 'app-secret'), 'utf8')).trim(),
      TEMPORAL_ADDRESS: banner.temporal,
    }
  }

  beforeAll(async () => {
    dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'flowpanel-durability-'))
    // npm start runs its own redis-server here (nothing answers on this port), so a SIGKILL round kills one too.
    redisUrl = `redis://127.0.0.1:${await freePort('127.0.0.1')}`
    panelUp = await startFakeMarzban()
    panelDown = await startFakeMarzban()
  })

  afterAll(async () => {
    killStarted()
    decoy?.kill('SIGKILL')
    if (dataDir) {
      const left = new Set<number>()
      for (const file of Object.values(pidFiles(dataDir))) {
        const pid = pidFromFile(file)
        if (pid !== undefined && !isGone(pid)) left.add(pid)
      }
      for (const line of processesUsingDataDir(dataDir)) left.add(Number(line.split(':')[0]))
      killAll(left)
    }
    await panelUp?.close()
    await panelDown?.close()
    if (dataDir) await fsp.rm(dataDir, { recursive: true, force: true })
    process.stdout.write(`durability timings (ms): ${JSON.stringify(times)}\n`)
  })

  it('comes up on a fresh data directory, with a panel in each location, a plan, an agent with credit, a customer and a card to pay to', async () => {
    const t0 = Date.now()
    await startApp()
    times.firstStart = Date.now() - t0
    const [, adminName, adminPassword] = /username: (\S+)\s+password: (\S+)/.exec(run.stdout()) ?? []
    expect(adminName).toMatch(/^admin-[a-z2-9]{6}$/)

    // The catalogue, through the operator's CLI.
    await Promise.all([
      cli('panel', 'add', '--type', 'marzban', '--name', 'panel-de', '--url', panelUp.url, '--username', 'admin', '--password', 'admin', '--location', 'de'),
      cli('panel', 'add', '--type', 'marzban', '--name', 'panel-nl', '--url', panelDown.url, '--username', 'admin', '--password', 'admin', '--location', 'nl'),
      cli('agent', 'create', '--username', 'reseller', '--password', PASSWORD),
      cli('customer', 'create', '--username', 'buyer', '--password', PASSWORD),
    ])
    const [checkDe, checkNl, plan] = await Promise.all([
      cli('panel', 'check', 'panel-de'),
      cli('panel', 'check', 'panel-nl'),
      cli('plan', 'add', '--name', 'Monthly', '--days', '30', '--gb', '50', '--price', String(PRICE), '--agent-price', String(AGENT_PRICE), '--location', 'de,nl'),
      cli('wallet', 'adjust', '--user', 'reseller', '--amount', String(AGENT_CREDIT), '--note', 'opening credit'),
    ])
    expect(checkDe.stdout).toContain('panel-de: healthy')
    expect(checkNl.stdout).toContain('panel-nl: healthy')
    planId = /\(id (\d+)\)/.exec(plan.stdout)![1]!

    // The card customers pay to, as the admin adds it in the web app.
    const admin = await webSession(banner.url, adminName!, adminPassword!)
    const method = await admin.post('/admin/payment-methods', {
      intent: 'create',
      kind: 'CARD',
      titleFa: 'کارت بانکی',
      titleEn: 'Bank card',
      cardNumber: '6037991234567890',
      holder: 'Flowpanel',
      active: 'on',
    })
    expect(method.status).toBe(200)
    expect(await withDb((conn) => conn('paymentMethods').where({ kind: 'CARD', active: true }).select('titleEn'))).toEqual([{ titleEn: 'Bank card' }])
    times.setup = Date.now() - t0
  }, 300_000)

  describe.each(variants)('stopped by $name', ({ stop }) => {
    const ids = { customerOrder: 0, agentOrder: 0, payment: 0 }
    const workflows = { customerOrder: '', agentOrder: '', payment: '' }
    let runsBefore: Record<string, { status: string; runId: string }>
    let attemptsBeforeStop = 0
    let leftovers: number[] = []
    let usersBefore = { up: 0, down: 0 }

    it('takes a receipt order that waits for an admin and a wallet order that keeps retrying a panel that is down', async () => {
      const t0 = Date.now()
      usersBefore = { up: panelUp.users().length, down: panelDown.users().length }
      // The customer orders, paying by card: the receipt goes in and waits for an admin.
      const customerOrder = await cli('order', 'create', '--user', 'buyer', '--plan', planId, '--location', 'de', '--pay', 'receipt')
      const placed = /order #(\d+) placed \((\S+)\)/.exec(customerOrder.stdout)!
      ids.customerOrder = Number(placed[1])
      workflows.customerOrder = placed[2]!
      const receipt = path.join(dataDir, `receipt-${stop}.png`)
      // Bytes after the PNG's end make each round's photo a different file (a receipt is accepted once).
      await fsp.writeFile(receipt, Buffer.concat([RECEIPT_PNG, Buffer.from(stop)]))
      const payment = await cli('payment', 'submit', '--user', 'buyer', '--amount', String(PRICE), '--method', 'CARD', '--order', String(ids.customerOrder), '--receipt', receipt)
      const submitted = /payment #(\d+) submitted \((\S+)\)/.exec(payment.stdout)!
      ids.payment = Number(submitted[1])
      workflows.payment = submitted[2]!

      // The agent's panel goes away; the agent orders from the wallet and the workflow keeps trying the panel.
      await panelDown.down()
      const agentOrder = await cli('order', 'create', '--user', 'reseller', '--plan', planId, '--location', 'nl', '--pay', 'wallet')
      const agentPlaced = /order #(\d+) placed \((\S+)\)/.exec(agentOrder.stdout)!
      ids.agentOrder = Number(agentPlaced[1])
      workflows.agentOrder = agentPlaced[2]!
      const retrying = await until(
        'the agent order to retry the panel',
        async () => {
          const status = await orderStatus(banner.temporal, workflows.agentOrder)
          return status.attempt >= 2 && status.lastError ? status : undefined
        },
        60_000,
      )
      expect(retrying.step).toBe('provisioning')

      expect(await orderRow(ids.customerOrder)).toEqual({ status: 'awaiting_payment' })
      expect(await orderRow(ids.agentOrder)).toEqual({ status: 'provisioning' })
      await withDb(async (conn) => {
        expect(await conn('payments').where({ id: ids.payment }).first('status')).toEqual({ status: 'PENDING' })
        expect(await conn('accounts').whereIn('orderId', [ids.customerOrder, ids.agentOrder]).select('id')).toEqual([])
      })
      expect(panelUp.users()).toHaveLength(usersBefore.up)
      expect(panelDown.users()).toHaveLength(usersBefore.down)
      runsBefore = await describeRuns(banner.temporal, Object.values(workflows))
      for (const id of Object.values(workflows)) expect(runsBefore[id]!.status, id).toBe('RUNNING')
      times[`${stop}:placed`] = Date.now() - t0
    }, 240_000)

    it('stops, starts again on the same data, and the same workflow runs are running', async () => {
      const t0 = Date.now()
      attemptsBeforeStop = (await orderStatus(banner.temporal, workflows.agentOrder)).attempt
      decoy = undefined
      if (stop === 'ctrl-c') {
        ctrlC(run)
        expect([0, 'SIGINT']).toContain(await run.exited)
        expect(run.stdout()).toContain('"event":"stopped"')
        expect(run.stdout()).not.toContain('forced-exit')
        expect(processesUsingDataDir(dataDir)).toEqual([])
      } else if (stop === 'kill') {
        const tree = processTree(run, dataDir)
        // The kill reaches the servers npm start ran, not only npm: each pid file names a process of this tree.
        for (const [name, file] of Object.entries(pidFiles(dataDir))) {
          const pid = pidFromFile(file)
          expect(pid, `${name} pid file`).toBeDefined()
          expect(tree.has(pid!), `${name} (pid ${pid}) is in the tree`).toBe(true)
        }
        killAll(tree)
        await until('every process of the tree to be gone', async () => ([...tree].every(isGone) ? true : undefined), 15_000, () =>
          [...tree].filter((pid) => !isGone(pid)).join(', '),
        )
        await run.exited
        // Nothing had a chance to clean up.
        expect(run.stdout()).not.toContain('"event":"stopping"')
        expect(processesUsingDataDir(dataDir)).toEqual([])
        for (const file of Object.values(pidFiles(dataDir))) expect(fs.existsSync(file), file).toBe(true)
        // Meanwhile the dead dev server's pid went to someone else's dev server (a shared machine): it is not ours to stop.
        decoy = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'server', 'start-dev', '--db-filename', path.join(os.tmpdir(), 'someone-else.db')], { stdio: 'ignore' })
        await fsp.writeFile(pidFiles(dataDir).temporal, String(decoy.pid))
      } else {
        const servers = Object.fromEntries(Object.entries(pidFiles(dataDir)).map(([name, file]) => [name, pidFromFile(file)!]))
        process.kill(-run.child.pid!, 'SIGKILL')
        await run.exited
        await sleep(500)
        for (const [name, pid] of Object.entries(servers)) expect(isGone(pid), `${name} (pid ${pid}) still runs`).toBe(false)
        leftovers = Object.values(servers)
      }
      times[`${stop}:stop`] = Date.now() - t0

      // After Ctrl-C, something else takes the port Temporal had: the history is in the SQLite file, not tied to the port.
      const before = banner.temporal
      const blocker = stop === 'ctrl-c' ? await holdPort(Number(before.split(':')[1])) : undefined
      const t1 = Date.now()
      try {
        await startApp()
      } finally {
        await blocker?.close()
      }
      times[`${stop}:restart`] = Date.now() - t1
      expect(run.stdout()).not.toContain('First start')
      if (blocker) expect(banner.temporal).not.toBe(before)
      if (decoy) {
        expect(isGone(decoy.pid!), 'the other dev server was stopped').toBe(false)
        expect(run.stdout()).not.toContain('"event":"temporal-leftover"')
        decoy.kill('SIGKILL')
      }
      if (stop === 'kill-npm') {
        // The new start stopped what the killed one left behind, and runs servers of its own.
        for (const event of ['embedded-postgres-leftover', 'redis-leftover', 'temporal-leftover']) expect(run.stdout()).toContain(`"event":"${event}"`)
        for (const pid of leftovers) expect(isGone(pid), `leftover pid ${pid}`).toBe(true)
      }

      expect(await describeRuns(banner.temporal, Object.values(workflows))).toEqual(runsBefore)
      expect(await orderRow(ids.customerOrder)).toEqual({ status: 'awaiting_payment' })
      expect(await orderRow(ids.agentOrder)).toEqual({ status: 'provisioning' })
    }, 240_000)

    it('delivers the approved order, then the other when its panel is back, each exactly once, and the ledger checks out', async () => {
      const t0 = Date.now()
      // The admin approves the receipt: that order is paid and delivered on the panel that is up.
      const approve = await cli('payment', 'decide', String(ids.payment), 'approve')
      expect(approve.stdout).toContain(`Payment #${ids.payment}`)
      await until('the customer order to be delivered', async () => ((await orderRow(ids.customerOrder)).status === 'delivered' ? true : undefined), 90_000)
      times[`${stop}:approvedToDelivered`] = Date.now() - t0

      // The other order went on retrying after the start, and still has nothing on its panel.
      const status = await until(
        'the agent order to retry after the start',
        async () => {
          const s = await orderStatus(banner.temporal, workflows.agentOrder)
          return s.attempt > attemptsBeforeStop ? s : undefined
        },
        90_000,
      )
      expect(status.step).toBe('provisioning')
      expect(status.lastError).toBeTruthy()
      expect(panelDown.users()).toHaveLength(usersBefore.down)

      const t1 = Date.now()
      await panelDown.up()
      await until('the agent order to be delivered', async () => ((await orderRow(ids.agentOrder)).status === 'delivered' ? true : undefined), 120_000)
      times[`${stop}:panelBackToDelivered`] = Date.now() - t1

      // The workflows end after delivery (the buyer's notice comes last), each in the run that was started before the stop.
      const done = await until(
        'the three workflows to complete',
        async () => {
          const runs = await describeRuns(banner.temporal, Object.values(workflows))
          return Object.values(runs).every((r) => r.status !== 'RUNNING') ? runs : undefined
        },
        60_000,
      )
      for (const id of Object.values(workflows)) expect(done[id], id).toEqual({ status: 'COMPLETED', runId: runsBefore[id]!.runId })

      await withDb(async (conn) => {
        for (const [orderId, panel, price, before] of [
          [ids.customerOrder, panelUp, PRICE, usersBefore.up],
          [ids.agentOrder, panelDown, AGENT_PRICE, usersBefore.down],
        ] as const) {
          const entries = await conn('ledgerEntries').where({ referenceType: 'order', referenceId: String(orderId) }).select('type', 'confirmedDelta')
          expect(entries, `ledger of order ${orderId}`).toEqual([{ type: 'ORDER_DEBIT', confirmedDelta: String(-price) }])
          const accounts = await conn('accounts').where({ orderId }).select('panelUsername')
          expect(accounts, `accounts of order ${orderId}`).toHaveLength(1)
          const users = panel.users().map((u) => u.username)
          expect(users).toHaveLength(before + 1)
          expect(users.filter((u) => u === accounts[0].panelUsername)).toHaveLength(1)
          expect(panel.counts.delete).toBe(0)
        }
        expect(await conn('payments').where({ id: ids.payment }).first('status')).toEqual({ status: 'APPROVED' })
      })
      const ledger = await cli('ledger', 'check')
      expect(ledger.stdout).toMatch(/^ledger ok: \d+ wallet\(s\) checked/m)
    }, 240_000)
  })

  it('stops cleanly on Ctrl-C and leaves no process behind', async () => {
    ctrlC(run)
    expect([0, 'SIGINT']).toContain(await run.exited)
    expect(run.stdout()).toContain('"event":"stopped"')
    expect(processesUsingDataDir(dataDir)).toEqual([])
    for (const file of Object.values(pidFiles(dataDir))) expect(fs.existsSync(file), file).toBe(false)
  }, 60_000)
})
