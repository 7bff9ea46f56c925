import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { Client, Connection, WorkflowExecutionAlreadyStartedError, type ConnectionOptions } from '@temporalio/client'
// The same internal option @temporalio/testing uses to get a TestService stub on a connection.
import { InternalConnectionOptionsSymbol } from '@temporalio/client/lib/connection.js'
import { temporal } from '@temporalio/proto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startTestServer, type TestServer } from '#temporal/test-server/index.ts'
import { TEST_SERVER_LAUNCHER } from '#tests/setup/temporal.ts'

const { EventType, CommandType, WorkflowTaskFailedCause } = temporal.api.enums.v1

let server: TestServer
let connection: Connection
const namespace = 'default'

beforeAll(async () => {
  server = await startTestServer({ timeSkipping: 'unlocked', longPollMs: 2000 })
  connection = await connectWithTestService(server.address)
})
afterAll(async () => {
  await connection?.close()
  await server?.close()
})

const service = () => connection.workflowService

function connectWithTestService(address: string, connectTimeout?: number): Promise<Connection> {
  const options = { address, connectTimeout, [InternalConnectionOptionsSymbol]: { supportsTestService: true } }
  return Connection.connect(options as ConnectionOptions)
}

async function start(workflowId = `raw-${randomUUID()}`, taskQueue = `raw-${randomUUID()}`) {
  const { runId } = await service().startWorkflowExecution({
    namespace,
    workflowId,
    workflowType: { name: 'raw' },
    taskQueue: { name: taskQueue },
    requestId: randomUUID(),
  })
  return { workflowId, runId: runId!, taskQueue }
}

async function pollTask(taskQueue: string) {
  const task = await service().pollWorkflowTaskQueue({ namespace, taskQueue: { name: taskQueue }, identity: 'raw-test' })
  expect(task.taskToken?.length).toBeGreaterThan(0)
  return task
}

async function eventTypes(workflowId: string, runId: string): Promise<string[]> {
  const { history } = await service().getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId } })
  return history!.events!.map((e) => EventType[e.eventType!]!.replace('EVENT_TYPE_', ''))
}

function timerAttributes(timerId: string, seconds: number) {
  return temporal.api.command.v1.StartTimerCommandAttributes.fromObject({ timerId, startToFireTimeout: { seconds } })
}

function completeCommand() {
  return { commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} }
}

describe('workflow task protocol', () => {
  test('the first poll returns the full history ending with WorkflowTaskStarted', async () => {
    const { taskQueue } = await start()
    const task = await pollTask(taskQueue)
    const types = task.history!.events!.map((e) => e.eventType)
    expect(types).toEqual([EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED])
    expect(Number(task.startedEventId)).toBe(3)
    expect(Number(task.previousStartedEventId ?? 0)).toBe(0)
    expect(task.workflowExecutionTaskQueue?.name).toBe(taskQueue)
  })

  test('a signal during a started task is buffered until the task completes', async () => {
    const { workflowId, runId, taskQueue } = await start()
    const task = await pollTask(taskQueue)
    await service().signalWorkflowExecution({ namespace, workflowExecution: { workflowId }, signalName: 's', requestId: randomUUID() })
    await service().respondWorkflowTaskCompleted({
      taskToken: task.taskToken,
      commands: [{ commandType: CommandType.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: timerAttributes('t1', 3600) }],
    })
    expect(await eventTypes(workflowId, runId)).toEqual([
      'WORKFLOW_EXECUTION_STARTED',
      'WORKFLOW_TASK_SCHEDULED',
      'WORKFLOW_TASK_STARTED',
      'WORKFLOW_TASK_COMPLETED',
      'TIMER_STARTED',
      'WORKFLOW_EXECUTION_SIGNALED',
      'WORKFLOW_TASK_SCHEDULED',
    ])
  })

  test('completing while a signal is buffered fails the task with UnhandledCommand and keeps the signal', async () => {
    const { workflowId, runId, taskQueue } = await start()
    const task = await pollTask(taskQueue)
    await service().signalWorkflowExecution({ namespace, workflowExecution: { workflowId }, signalName: 'late', requestId: randomUUID() })
    const error = await service()
      .respondWorkflowTaskCompleted({ taskToken: task.taskToken, commands: [completeCommand()] })
      .catch((e: unknown) => e as { code: number; details: string })
    expect(error).toMatchObject({ code: 3, details: 'UnhandledCommand' })
    const { history } = await service().getWorkflowExecutionHistory({ namespace, execution: { workflowId, runId } })
    const failed = history!.events!.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)
    expect(failed?.workflowTaskFailedEventAttributes?.cause).toBe(WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND)
    const next = await pollTask(taskQueue)
    expect(next.history!.events!.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'late')).toBe(true)
    await service().respondWorkflowTaskCompleted({ taskToken: next.taskToken, commands: [completeCommand()] })
    expect((await eventTypes(workflowId, runId)).at(-1)).toBe('WORKFLOW_EXECUTION_COMPLETED')
  })

  test('a failed task is retried with attempt 2 and a stale token is not found', async () => {
    const { taskQueue } = await start()
    const task = await pollTask(taskQueue)
    await service().respondWorkflowTaskFailed({ taskToken: task.taskToken, cause: WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE })
    const retry = await pollTask(taskQueue)
    expect(retry.attempt).toBe(2)
    await expect(service().respondWorkflowTaskCompleted({ taskToken: task.taskToken, commands: [] })).rejects.toMatchObject({ code: 5 })
  })

  test('terminate discards the started task; completing it afterwards is not found', async () => {
    const { workflowId, runId, taskQueue } = await start()
    const task = await pollTask(taskQueue)
    await service().terminateWorkflowExecution({ namespace, workflowExecution: { workflowId }, reason: 'test' })
    await expect(service().respondWorkflowTaskCompleted({ taskToken: task.taskToken, commands: [completeCommand()] })).rejects.toMatchObject({ code: 5 })
    expect((await eventTypes(workflowId, runId)).at(-1)).toBe('WORKFLOW_EXECUTION_TERMINATED')
  })

  test('a closing command that is not last is rejected', async () => {
    const { taskQueue } = await start()
    const task = await pollTask(taskQueue)
    const timer = { commandType: CommandType.COMMAND_TYPE_START_TIMER, startTimerCommandAttributes: timerAttributes('t', 1) }
    await expect(service().respondWorkflowTaskCompleted({ taskToken: task.taskToken, commands: [completeCommand(), timer] })).rejects.toMatchObject({ code: 3 })
  })

  test('the close-event history long poll waits instead of answering empty at once', async () => {
    const { workflowId, runId, taskQueue } = await start()
    const started = Date.now()
    const waiting = service().getWorkflowExecutionHistory({
      namespace,
      execution: { workflowId, runId },
      waitNewEvent: true,
      historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
    })
    const task = await pollTask(taskQueue)
    await new Promise((r) => setTimeout(r, 100))
    await service().respondWorkflowTaskCompleted({ taskToken: task.taskToken, commands: [completeCommand()] })
    const { history } = await waiting
    expect(history!.events!.map((e) => e.eventType)).toEqual([EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED])
    expect(Date.now() - started).toBeGreaterThanOrEqual(90)
  })
})

describe('service edges', () => {
  test('an unimplemented RPC answers UNIMPLEMENTED naming the method', async () => {
    await expect(service().listSchedules({ namespace })).rejects.toMatchObject({ code: 12, details: expect.stringContaining('ListSchedules') })
  })

  test('a duplicate start carries the running run id in its error details', async () => {
    const { workflowId, runId, taskQueue } = await start()
    const client = new Client({ connection })
    const error = await client.workflow.start('raw', { workflowId, taskQueue, args: [] }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(WorkflowExecutionAlreadyStartedError)
    const raw = await service()
      .startWorkflowExecution({ namespace, workflowId, workflowType: { name: 'raw' }, taskQueue: { name: taskQueue }, requestId: randomUUID() })
      .catch((e: unknown) => e as { code: number; metadata: { get(k: string): unknown[] } })
    expect(raw).toMatchObject({ code: 6 })
    const status = temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure
    const bin = (raw as { metadata: { get(k: string): Buffer[] } }).metadata.get('grpc-status-details-bin')[0]!
    const { google } = await import('@temporalio/proto')
    const detail = google.rpc.Status.decode(bin).details![0]!
    expect(status.decode(detail.value!).runId).toBe(runId)
  })

  test('a cron schedule is refused instead of silently ignored', async () => {
    const request = { namespace, workflowId: `cron-${randomUUID()}`, workflowType: { name: 'raw' }, taskQueue: { name: 'raw' }, cronSchedule: '* * * * *' }
    await expect(service().startWorkflowExecution(request)).rejects.toMatchObject({ code: 12, details: expect.stringContaining('Cron') })
  })

  test('an unknown namespace is reported as NOT_FOUND', async () => {
    await expect(service().describeNamespace({ namespace: 'nope' })).rejects.toMatchObject({ code: 5 })
  })

  test('the library clock skips time by hand', async () => {
    const before = server.clock.now().getTime()
    server.clock.skip(60 * 60 * 1000)
    expect(server.clock.now().getTime() - before).toBeGreaterThanOrEqual(60 * 60 * 1000)
    const { time } = await connection.testService!.getCurrentTime({})
    expect(Number(time!.seconds) * 1000).toBeGreaterThanOrEqual(before + 60 * 60 * 1000 - 1000)
  })
})

describe('launcher', () => {
  test('the executable follows the test-server contract from any working directory and dies with its launcher', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    const child = spawn(TEST_SERVER_LAUNCHER, [String(port)], { cwd: '/', stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    try {
      let conn: Connection | undefined
      for (let i = 0; i < 100 && !conn; i++) {
        await new Promise((r) => setTimeout(r, 100))
        conn = await connectWithTestService(`127.0.0.1:${port}`, 200).catch(() => undefined)
      }
      expect(conn, stderr).toBeDefined()
      // Locked at start: unlocking once is allowed, twice is not.
      await conn!.testService!.unlockTimeSkipping({})
      await expect(conn!.testService!.unlockTimeSkipping({})).rejects.toMatchObject({ code: 9 })
      await conn!.close()
    } finally {
      child.kill('SIGKILL')
    }
    const code = await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.signalCode) : child.once('exit', (_c, s) => resolve(s))))
    expect(code).toBe('SIGKILL')
  })
})

describe('update protocol', () => {
  test('an update request rides on a workflow task and its acceptance and response are written to history', async () => {
    const { workflowId, runId, taskQueue } = await start()
    const first = await pollTask(taskQueue)
    await service().respondWorkflowTaskCompleted({ taskToken: first.taskToken, commands: [] })
    const pending = service().updateWorkflowExecution({
      namespace,
      workflowExecution: { workflowId },
      waitPolicy: { lifecycleStage: temporal.api.enums.v1.UpdateWorkflowExecutionLifecycleStage.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED },
      request: { meta: { updateId: 'u1', identity: 'raw' }, input: { name: 'approve' } },
    })
    const task = await pollTask(taskQueue)
    expect(task.messages).toHaveLength(1)
    const message = task.messages![0]!
    expect(message.protocolInstanceId).toBe('u1')
    const request = temporal.api.update.v1.Request.decode(message.body!.value!)
    const pack = (name: string, bytes: Uint8Array) => ({ type_url: `type.googleapis.com/temporal.api.update.v1.${name}`, value: bytes })
    const acceptance = temporal.api.update.v1.Acceptance.encode({
      acceptedRequestMessageId: message.id,
      acceptedRequestSequencingEventId: message.eventId,
      acceptedRequest: request,
    }).finish()
    const response = temporal.api.update.v1.Response.encode({ meta: request.meta, outcome: { success: { payloads: [] } } }).finish()
    await service().respondWorkflowTaskCompleted({
      taskToken: task.taskToken,
      messages: [
        { id: 'u1/accept', protocolInstanceId: 'u1', body: pack('Acceptance', acceptance) },
        { id: 'u1/complete', protocolInstanceId: 'u1', body: pack('Response', response) },
      ],
      commands: [
        { commandType: CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE, protocolMessageCommandAttributes: { messageId: 'u1/accept' } },
        { commandType: CommandType.COMMAND_TYPE_PROTOCOL_MESSAGE, protocolMessageCommandAttributes: { messageId: 'u1/complete' } },
      ],
    })
    const result = await pending
    expect(result.outcome?.success).toBeDefined()
    expect((await eventTypes(workflowId, runId)).slice(-3)).toEqual(['WORKFLOW_TASK_COMPLETED', 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED', 'WORKFLOW_EXECUTION_UPDATE_COMPLETED'])
  })
})
