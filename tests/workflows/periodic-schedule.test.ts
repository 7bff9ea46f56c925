import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ScheduleNotFoundError } from '@temporalio/client'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { adjustWallet } from '#db/payments.ts'
import { placeOrder } from '#db/orders.ts'
import { PERIODIC_SCHEDULE_ID, RECONCILE_SCHEDULE_ID, WORKFLOW_TYPES, type OrderResult } from '#temporal/messages.ts'
import { ensurePeriodicSchedule, LEGACY_PERIODIC_WORKFLOW_TYPE, readPeriodicStatus, runPeriodicPassNow, type PeriodicStatus } from '#temporal/periodic.ts'
import { MAIN_TASK_QUEUE } from '#temporal/task-queues.ts'
import { parseArgv } from '../../bin/cli.ts'
import { loadCommands } from '../../bin/commands/index.ts'
import { GB, replayHistories, startHarness, waitFor, type Harness } from './harness.ts'

/**
 * The `periodic-maintenance` schedule on the CLI dev server (the time-skipping test server has no schedules), in
 * real time: worker processes (`worker/main.ts`, as `npm run worker` runs it) create it, or with `--no-periodic` do
 * not; a changed interval is applied; "run now" runs a pass whose work shows in the database and at the fake panel;
 * the status is read back from Temporal. The pass itself is tested in periodic.test.ts.
 */
let h: Harness
const children: ChildProcess[] = []
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const TEN_MINUTES = 10 * 60_000
const saved: Record<string, string | undefined> = {}

beforeAll(async () => {
  h = await startHarness('periodic_schedule', { temporal: 'dev' })
  // The CLI commands read their configuration from the environment, like the real CLI.
  for (const [k, v] of Object.entries({ DATABASE_URL: h.dbUrl, TEMPORAL_ADDRESS: h.env.address, APP_SECRET: h.appEnv.APP_SECRET, REDIS_URL: h.redisUrl })) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
})
afterEach(async () => {
  await Promise.all(children.splice(0).map(stopProcess))
})
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  await h?.teardown()
})

interface WorkerProcess {
  proc: ChildProcess
  output: () => string
}

async function startWorkerProcess(args: string[], env: Record<string, string> = {}): Promise<WorkerProcess> {
  let output = ''
  const proc = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts', ...args], {
    cwd: ROOT,
    env: { ...h.processEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(proc)
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  await waitFor('the worker process to start', () => output.includes('worker started') || proc.exitCode !== null, 90_000)
  if (proc.exitCode !== null) throw new Error(`worker process exited early:\n${output}`)
  return { proc, output: () => output }
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  proc.kill('SIGTERM')
  await exited
}

/** Runs a CLI command in this process, as bin/flowpanel.ts would, capturing what it prints. */
async function cli(...argv: string[]): Promise<{ code: number; stdout: string }> {
  const { words, flags } = parseArgv(argv)
  const command = (await loadCommands()).find((c) => c.name.every((w, i) => words[i] === w))
  if (!command) throw new Error(`no command ${words.join(' ')}`)
  let stdout = ''
  const code = await command.run({ args: words.slice(command.name.length), flags, out: (line) => (stdout += line + '\n') })
  return { code, stdout }
}

async function scheduleIds(): Promise<string[]> {
  const ids: string[] = []
  for await (const s of h.client.schedule.list()) ids.push(s.scheduleId)
  return ids
}

/** Waits for a finished pass other than `after` (a run id), and remembers every pass for the replay check. */
async function nextFinishedPass(after: string | undefined, timeoutMs = 30_000): Promise<PeriodicStatus & { lastPass: NonNullable<PeriodicStatus['lastPass']> }> {
  let seen: PeriodicStatus | undefined
  const s = await waitFor(
    'a finished periodic pass',
    async () => {
      seen = await readPeriodicStatus(h.client)
      return seen.lastPass && seen.lastPass.runId !== after && seen.running.length === 0 ? seen : undefined
    },
    timeoutMs,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}; last status: ${JSON.stringify(seen)}`)
  })
  const d = await h.client.schedule.getHandle(PERIODIC_SCHEDULE_ID).describe()
  for (const a of d.info.recentActions) h.started.add(a.action.workflow.workflowId)
  return s as PeriodicStatus & { lastPass: NonNullable<PeriodicStatus['lastPass']> }
}

describe('the periodic-maintenance schedule', () => {
  test('a worker started with --no-periodic creates no schedule', async () => {
    const w = await startWorkerProcess(['--no-periodic'])
    expect(w.output()).not.toContain('periodic-maintenance schedule')
    await expect(h.client.schedule.getHandle(PERIODIC_SCHEDULE_ID).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError)
    expect(await scheduleIds()).toEqual([])
    expect(await readPeriodicStatus(h.client)).toMatchObject({ schedule: 'missing', lastPass: null })
    const status = await cli('periodic', 'status')
    expect(status.code).toBe(1)
    expect(status.stdout).toMatch(/periodic-maintenance: missing/)
  })

  test('two workers starting together create exactly one schedule, configured, whose first pass runs at once', async () => {
    await h.db('panels').where({ id: h.panelId }).update({ healthCheckedAt: null })
    const startedAt = Date.now()
    const [a, b] = await Promise.all([startWorkerProcess([], { PERIODIC_INTERVAL: '10m' }), startWorkerProcess([], { PERIODIC_INTERVAL: '10m' })])
    const said = [a.output(), b.output()].map((o) => /periodic-maintenance schedule (created|updated|unchanged)/.exec(o)?.[1]).sort()
    expect(said).toEqual(['created', 'unchanged'])
    expect([a.output(), b.output()].map((o) => /reconcile schedule (created|updated|unchanged)/.exec(o)?.[1]).sort()).toEqual(['created', 'unchanged'])
    expect(await waitFor('the schedules in the list', async () => ((await scheduleIds()).length > 1 ? (await scheduleIds()).sort() : undefined))).toEqual([PERIODIC_SCHEDULE_ID, RECONCILE_SCHEDULE_ID])
    const reconcile = await h.client.schedule.getHandle(RECONCILE_SCHEDULE_ID).describe()
    expect(reconcile.spec.intervals).toEqual([{ every: 5 * 60_000 }])
    expect(reconcile.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 5 * 60_000, pauseOnFailure: false })
    expect(reconcile.action).toMatchObject({ type: 'startWorkflow', workflowType: WORKFLOW_TYPES.reconcilePass, workflowId: RECONCILE_SCHEDULE_ID, taskQueue: MAIN_TASK_QUEUE })

    const d = await h.client.schedule.getHandle(PERIODIC_SCHEDULE_ID).describe()
    expect(d.spec.intervals).toEqual([{ every: TEN_MINUTES }])
    expect(d.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: TEN_MINUTES, pauseOnFailure: false })
    expect(d.action).toMatchObject({ type: 'startWorkflow', workflowType: WORKFLOW_TYPES.periodicPass, workflowId: PERIODIC_SCHEDULE_ID, taskQueue: MAIN_TASK_QUEUE })
    expect(d.state.paused).toBe(false)

    const first = await nextFinishedPass(undefined)
    // Temporal names each pass after the schedule's workflow id and the time it was scheduled for.
    expect(first.lastPass.workflowId).toMatch(/^periodic-maintenance-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(first.lastPass).toMatchObject({ outcome: 'completed', summary: { panelsChecked: 1, panelsHealthy: 1, problems: [] } })
    expect(await h.db('panels').where({ id: h.panelId }).first()).toMatchObject({ healthStatus: 'healthy', healthCheckedAt: expect.any(Date) })
    // The pass at creation, plus one for each ten-minute mark the test happened to cross.
    const marksCrossed = Math.floor(Date.now() / TEN_MINUTES) - Math.floor(startedAt / TEN_MINUTES)
    expect(first.passesStarted).toBeGreaterThanOrEqual(1)
    expect(first.passesStarted).toBeLessThanOrEqual(1 + marksCrossed)
    // The next pass is on the ten-minute grid, within ten minutes.
    const next = Date.parse(first.nextPassAt!)
    expect(next % TEN_MINUTES).toBe(0)
    expect(next - Date.now()).toBeLessThanOrEqual(TEN_MINUTES)
  })

  test('a start with another interval updates the schedule, keeps a pause, and the schedule then runs on it', async () => {
    const handle = h.client.schedule.getHandle(PERIODIC_SCHEDULE_ID)
    await handle.pause('paused by ops')
    expect(await ensurePeriodicSchedule(h.client, { intervalMs: 15 * 60_000 })).toBe('updated')
    let d = await handle.describe()
    expect(d.spec.intervals).toEqual([{ every: 15 * 60_000 }])
    expect(d.policies.catchupWindow).toBe(15 * 60_000)
    expect(d.state).toMatchObject({ paused: true, note: 'paused by ops' })
    expect(await ensurePeriodicSchedule(h.client, { intervalMs: 15 * 60_000 })).toBe('unchanged')
    await handle.unpause('test')

    // A short interval, to see the schedule itself start passes on its grid.
    const before = (await handle.describe()).info.numActionsTaken
    expect(await ensurePeriodicSchedule(h.client, { intervalMs: 2_000 })).toBe('updated')
    d = await waitFor('two scheduled passes', async () => {
      const d = await handle.describe()
      return d.info.numActionsTaken >= before + 2 ? d : undefined
    })
    const scheduled = d.info.recentActions.slice(-2).map((a) => a.scheduledAt.getTime())
    expect(scheduled.every((t) => t % 2_000 === 0)).toBe(true)
    expect(await ensurePeriodicSchedule(h.client, { intervalMs: TEN_MINUTES })).toBe('updated')
    d = await waitFor('the short-interval passes to finish', async () => {
      const d = await handle.describe()
      return d.info.runningActions.length === 0 ? d : undefined
    })
    for (const a of d.info.recentActions) h.started.add(a.action.workflow.workflowId)
    expect(d.spec.intervals).toEqual([{ every: TEN_MINUTES }])
  })

  test('run now (CLI `periodic run`) starts a pass that syncs the panel into the database; the status shows it', async () => {
    const userId = await h.createCustomer('synced-user')
    await adjustWallet(h.db, h.client, { userId, amount: '150000', note: 'test top-up', actorUserId: h.adminId })
    const placed = await placeOrder(h.db, h.client, { userId, planId: h.planId, locationId: h.locationId })
    h.started.add(placed.workflowId)
    const order = await h.client.workflow.getHandle<() => Promise<OrderResult>>(placed.workflowId).result()
    h.marzban.setUsage(`fp_${placed.order.id}`, 7 * GB)
    const before = (await readPeriodicStatus(h.client)).lastPass?.runId
    const listsBefore = h.marzban.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/users')).length

    const run = await cli('periodic', 'run')
    expect(run.code).toBe(0)
    const s = await nextFinishedPass(before)
    expect(s.lastPass).toMatchObject({ outcome: 'completed', summary: { panelsHealthy: 1, accountsSynced: 1, problems: [] } })
    expect(h.marzban.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/users')).length).toBeGreaterThan(listsBefore)
    expect(await h.db('accounts').where({ id: order.accountId }).first()).toMatchObject({ dataUsedBytes: String(7 * GB), usageSyncedAt: expect.any(Date) })

    const status = await cli('periodic', 'status')
    expect(status.code).toBe(0)
    expect(status.stdout).toContain('schedule periodic-maintenance: active')
    expect(status.stdout).toContain('interval: 10m')
    expect(status.stdout).toContain(`last pass: ${s.lastPass.workflowId} completed`)
    expect(status.stdout).toContain('panels healthy: 1 of 1, accounts synced: 1')
  })

  test('run now while a pass is running runs one more pass after it, not two at once and not none', async () => {
    const handle = h.client.schedule.getHandle(PERIODIC_SCHEDULE_ID)
    const before = (await handle.describe()).info.numActionsTaken
    h.marzban.latencyMs = 1_500
    try {
      await runPeriodicPassNow(h.client)
      await waitFor('the slow pass to run', async () => ((await handle.describe()).info.runningActions.length > 0 ? true : undefined))
      await runPeriodicPassNow(h.client)
      await runPeriodicPassNow(h.client)
      expect((await handle.describe()).info.runningActions).toHaveLength(1)
      const d = await waitFor(
        'the buffered pass',
        async () => {
          const d = await handle.describe()
          return d.info.numActionsTaken >= before + 2 && d.info.runningActions.length === 0 ? d : undefined
        },
        60_000,
      )
      expect(d.info.numActionsTaken).toBe(before + 2)
    } finally {
      h.marzban.latencyMs = 0
    }
    await nextFinishedPass(undefined)
  })

  test('the long-running loop of ADR 008, if it still runs, is terminated when the schedule is ensured', async () => {
    // On a task queue nobody polls: no worker registers that workflow type any more.
    const legacy = await h.client.workflow.start(LEGACY_PERIODIC_WORKFLOW_TYPE, { taskQueue: 'legacy-periodic', workflowId: PERIODIC_SCHEDULE_ID, args: [{}] })
    expect((await legacy.describe()).status.name).toBe('RUNNING')
    expect(await ensurePeriodicSchedule(h.client, { intervalMs: TEN_MINUTES })).toBe('unchanged')
    expect((await legacy.describe()).status.name).toBe('TERMINATED')
  })
})

describe('replay', () => {
  test('every pass and order of this file replays without nondeterminism', async () => {
    const passes = [...h.started].filter((id) => id.startsWith(`${PERIODIC_SCHEDULE_ID}-`))
    expect(passes.length).toBeGreaterThanOrEqual(3)
    const { replayed, errors } = await replayHistories(h, h.started, 'periodic-schedule')
    expect(errors).toEqual([])
    expect(replayed).toBeGreaterThanOrEqual(passes.length)
  })
})
