import { randomUUID } from 'node:crypto'
import * as grpc from '@grpc/grpc-js'
import { Clock, type TimeSkippingMode } from './clock.ts'
import { RpcError, invalidArgument, lookupType, notFound, packAny, type Handler, type Msg } from './grpc.ts'
import type { Activity, Buffered, Child, Namespace, Query, Run, RunStatus, Update, Wft } from './model.ts'
import { isOpen } from './model.ts'
import { SearchAttributeRegistry, Visibility } from './visibility.ts'
import { commandAttributesKey, decodeToken, dur, encodeToken, eventAttributesKey, eventTypeName, toMs, ts } from './util.ts'

export interface EngineOptions {
  namespaces?: string[]
  timeSkipping: TimeSkippingMode
  initialTime?: number
  /** How long a long poll is held before an empty answer (real time). */
  longPollMs?: number
  log?: boolean
  /** Custom search attributes to register, name → type (Keyword, Text, Int, Double, Bool, Datetime, KeywordList). */
  searchAttributes?: Record<string, string>
}

const NORMAL = 'TASK_QUEUE_KIND_NORMAL'
const DEFAULT_WFT_TIMEOUT_MS = 10_000
const SERVER_VERSION = '1.24.0-flowpanel-test-server'

const CLOSING_COMMANDS = new Set([
  'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION',
  'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION',
])

interface TaskRef {
  kind: 'wft' | 'activity' | 'query'
  run: Run
  gen?: number
  activity?: Activity
  attempt?: number
  query?: Query
}

interface Poller {
  call: grpc.ServerUnaryCall<Msg, Msg>
  take: (ref: TaskRef) => Msg | null
  resolve: (response: Msg) => void
  done: boolean
  timer?: NodeJS.Timeout
}

interface TaskQueue {
  refs: TaskRef[]
  pollers: Poller[]
}

class BadCommand extends Error {
  constructor(
    readonly failedCause: string,
    message: string,
  ) {
    super(message)
  }
}

interface StartParams {
  workflowId: string
  workflowType: string
  taskQueue: string
  input?: Msg
  executionTimeoutMs: number
  runTimeoutMs: number
  wftTimeoutMs: number
  executionExpiration?: number
  identity?: string
  requestId?: string
  retryPolicy?: Msg
  cronSchedule?: string
  memo?: Msg
  searchAttributes?: Msg
  header?: Msg
  firstWftBackoffMs?: number
  attempt?: number
  firstRunId?: string
  continuedRunId?: string
  initiator?: string
  continuedFailure?: Msg
  lastCompletionResult?: Msg
  parent?: Run['parent']
  parentNamespace?: string
  root?: Run['root']
  signal?: { signalName: string; input?: Msg; header?: Msg; identity?: string }
  priority?: Msg
  userMetadata?: Msg
}

/**
 * The in-memory Temporal service: namespaces, runs and their histories, task queues and the TestService clock.
 * Every RPC handler mutates state synchronously (one event loop, no locks); long polls park promises.
 */
export class Engine {
  readonly clock: Clock
  readonly namespaces = new Map<string, Namespace>()
  readonly searchAttributes: SearchAttributeRegistry
  readonly visibility: Visibility
  private readonly queues = new Map<string, TaskQueue>()
  private readonly openRuns = new Set<Run>()
  private readonly outstandingQueries = new Set<Query>()
  private readonly longPollMs: number
  private readonly log: boolean
  private taskId = 0
  private closed = false
  private readonly parkedHistoryPolls = new Set<() => void>()

  constructor(options: EngineOptions) {
    this.clock = new Clock(options.timeSkipping, options.initialTime, () => this.busy(), (error) => this.internalError('timer', error))
    this.longPollMs = options.longPollMs ?? 20_000
    this.log = options.log ?? false
    for (const name of options.namespaces ?? ['default']) this.addNamespace(name)
    this.searchAttributes = new SearchAttributeRegistry(options.searchAttributes)
    this.visibility = new Visibility(this.searchAttributes, (run) => this.executionInfo(run))
  }

  addNamespace(name: string): Namespace {
    let ns = this.namespaces.get(name)
    if (!ns) {
      ns = { name, id: randomUUID(), executions: new Map(), runs: new Map() }
      this.namespaces.set(name, ns)
    }
    return ns
  }

  now(): number {
    return this.clock.now()
  }

  close(): void {
    this.closed = true
    this.clock.close()
    for (const queue of this.queues.values()) {
      for (const poller of queue.pollers) this.finishPoller(poller, {})
      queue.pollers = []
    }
    for (const wake of this.parkedHistoryPolls) wake()
  }

  internalError(where: string, error: unknown): void {
    process.stderr.write(`[temporal-test-server] internal error in ${where}: ${error instanceof Error ? error.stack : String(error)}\n`)
  }

  /** Whether any work is in flight, which keeps time from skipping. */
  private busy(): boolean {
    if (this.outstandingQueries.size > 0) return true
    for (const run of this.openRuns) {
      if (run.wft || run.inFlight > 0) return true
      for (const activity of run.activities.values()) if (activity.state !== 'backoff') return true
    }
    return false
  }

  // ---------------------------------------------------------------- lookup

  namespace(name: string | undefined): Namespace {
    const ns = this.namespaces.get(name || 'default')
    if (!ns) {
      throw notFound(`Namespace ${name} is not found.`, [
        { typeName: 'temporal.api.errordetails.v1.NamespaceNotFoundFailure', value: { namespace: name } },
      ])
    }
    return ns
  }

  private findRun(ns: Namespace, execution: Msg | undefined, firstExecutionRunId?: string): Run {
    const workflowId: string | undefined = execution?.workflowId
    if (!workflowId) throw invalidArgument('WorkflowId is not set on request.')
    const runs = ns.executions.get(workflowId)
    const runId: string | undefined = execution?.runId
    let run: Run | undefined
    if (runId) run = ns.runs.get(runId)
    else run = runs?.[runs.length - 1]
    if (!run || run.workflowId !== workflowId) {
      throw notFound(`workflow not found for ID: ${workflowId}`, [
        { typeName: 'temporal.api.errordetails.v1.NotFoundFailure', value: { currentCluster: 'active', activeCluster: 'active' } },
      ])
    }
    if (firstExecutionRunId && run.firstRunId !== firstExecutionRunId) {
      throw notFound(`workflow not found for ID: ${workflowId} with first execution run ID ${firstExecutionRunId}`)
    }
    return run
  }

  private latestRun(ns: Namespace, workflowId: string): Run | undefined {
    const runs = ns.executions.get(workflowId)
    return runs?.[runs.length - 1]
  }

  allRuns(): Run[] {
    const all: Run[] = []
    for (const ns of this.namespaces.values()) all.push(...ns.runs.values())
    return all
  }

  // ---------------------------------------------------------------- history

  private append(run: Run, type: string, attributes: Msg): Msg {
    const event: Msg = {
      eventId: run.history.length + 1,
      eventTime: ts(this.now()),
      eventType: eventTypeName(type),
      taskId: ++this.taskId,
      [eventAttributesKey(type)]: attributes,
    }
    run.history.push(event)
    run.historyBytes += 64
    run.stateTransitions++
    if (this.log) process.stderr.write(`[tsrv] ${run.workflowId}/${run.runId.slice(0, 8)} #${event.eventId} ${type}\n`)
    this.wakeWaiters(run)
    return event
  }

  private wakeWaiters(run: Run): void {
    if (run.waiters.size === 0) return
    const waiters = [...run.waiters]
    run.waiters.clear()
    for (const wake of waiters) wake()
  }

  /** Delivers an external event: buffered while a workflow task is started, else written now with a new task. */
  private deliver(run: Run, entry: Buffered): void {
    if (!isOpen(run)) return
    if (run.wft?.state === 'started') {
      run.buffer.push(entry)
      run.needsWft = true
      return
    }
    entry.apply()
    // During the first task's backoff, events wait for it, as on the real server.
    if (!run.awaitingFirstTask) this.scheduleWft(run)
  }

  private flushBuffer(run: Run): boolean {
    if (run.buffer.length === 0) return false
    const buffer = run.buffer
    run.buffer = []
    for (const entry of buffer) entry.apply()
    return true
  }

  // ---------------------------------------------------------------- task queues

  private queue(ns: string, kind: 'wf' | 'act', name: string): TaskQueue {
    const key = `${ns}\u0000${kind}\u0000${name}`
    let queue = this.queues.get(key)
    if (!queue) {
      queue = { refs: [], pollers: [] }
      this.queues.set(key, queue)
    }
    return queue
  }

  private offer(queue: TaskQueue, ref: TaskRef): void {
    while (queue.pollers.length > 0) {
      const poller = queue.pollers.shift()!
      if (poller.done || poller.call.cancelled) continue
      const response = poller.take(ref)
      if (response) this.finishPoller(poller, response)
      else queue.pollers.unshift(poller)
      return
    }
    queue.refs.push(ref)
  }

  private finishPoller(poller: Poller, response: Msg): void {
    if (poller.done) return
    poller.done = true
    if (poller.timer) clearTimeout(poller.timer)
    poller.resolve(response)
  }

  private poll(queue: TaskQueue, call: grpc.ServerUnaryCall<Msg, Msg>, take: (ref: TaskRef) => Msg | null): Msg | Promise<Msg> {
    while (queue.refs.length > 0) {
      const ref = queue.refs.shift()!
      const response = take(ref)
      if (response) return response
    }
    if (this.closed) return {}
    return new Promise<Msg>((resolve) => {
      const poller: Poller = { call, take, resolve, done: false }
      poller.timer = setTimeout(() => {
        const i = queue.pollers.indexOf(poller)
        if (i >= 0) queue.pollers.splice(i, 1)
        this.finishPoller(poller, {})
      }, this.pollTimeout(call))
      call.on('cancelled', () => {
        const i = queue.pollers.indexOf(poller)
        if (i >= 0) queue.pollers.splice(i, 1)
        this.finishPoller(poller, {})
      })
      queue.pollers.push(poller)
    })
  }

  private pollTimeout(call: grpc.ServerUnaryCall<Msg, Msg>): number {
    const deadline = call.getDeadline()
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : typeof deadline === 'number' ? deadline : Infinity
    const untilDeadline = deadlineMs - Date.now() - 1000
    return Math.max(0, Math.min(this.longPollMs, untilDeadline))
  }

  // ---------------------------------------------------------------- workflow tasks

  private scheduleWft(run: Run): void {
    if (!isOpen(run)) return
    if (!run.wft) this.newWft(run, 1)
    else if (run.wft.state === 'started') run.needsWft = true
  }

  private newWft(run: Run, attempt: number): void {
    const event = this.append(run, 'WorkflowTaskScheduled', {
      taskQueue: { name: run.taskQueue, kind: NORMAL },
      startToCloseTimeout: dur(run.wftTimeoutMs),
      attempt,
    })
    const wft: Wft = {
      state: 'scheduled',
      gen: ++run.wftGen,
      attempt,
      scheduledEventId: event.eventId,
      startedEventId: 0,
      scheduledTime: this.now(),
      startedTime: 0,
      queries: [],
    }
    run.wft = wft
    run.needsWft = false
    // Queries that waited for the previous task ride on this one.
    if (run.queriesAfterWft.length > 0) {
      wft.queries.push(...run.queriesAfterWft)
      run.queriesAfterWft = []
    }
    this.offer(this.queue(run.ns.name, 'wf', run.taskQueue), { kind: 'wft', run, gen: wft.gen })
    this.clock.poke()
  }

  private takeWft(ref: TaskRef, identity: string): Msg | null {
    const run = ref.run
    if (ref.kind === 'query') return this.takeQuery(ref, identity)
    const wft = run.wft
    if (!isOpen(run) || !wft || wft.gen !== ref.gen || wft.state !== 'scheduled') return null
    const started = this.append(run, 'WorkflowTaskStarted', {
      scheduledEventId: wft.scheduledEventId,
      identity,
      requestId: randomUUID(),
      historySizeBytes: run.historyBytes,
    })
    wft.state = 'started'
    wft.startedEventId = started.eventId
    wft.startedTime = this.now()
    const gen = wft.gen
    wft.timer = this.clock.after(run.wftTimeoutMs, () => this.wftTimedOut(run, gen))
    const queries: Msg = {}
    for (const q of wft.queries) if (!q.done) queries[q.id] = q.query
    const messages: Msg[] = []
    for (const update of run.updates.values()) {
      if (update.state !== 'requested') continue
      update.state = 'sent'
      update.sentGen = gen
      messages.push({
        id: `${update.id}/request`,
        protocolInstanceId: update.id,
        eventId: started.eventId - 1,
        body: packAny('temporal.api.update.v1.Request', update.request),
      })
    }
    return {
      taskToken: encodeToken({ k: 'w', n: run.ns.name, r: run.runId, g: gen }),
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      workflowType: { name: run.workflowType },
      previousStartedEventId: run.lastCompletedStartedId,
      startedEventId: started.eventId,
      attempt: wft.attempt,
      backlogCountHint: 0,
      history: { events: run.history },
      workflowExecutionTaskQueue: { name: run.taskQueue, kind: NORMAL },
      scheduledTime: ts(wft.scheduledTime),
      startedTime: ts(wft.startedTime),
      queries,
      messages,
    }
  }

  private takeQuery(ref: TaskRef, _identity: string): Msg | null {
    const query = ref.query!
    if (query.done) return null
    const run = ref.run
    return {
      taskToken: encodeToken({ k: 'q', n: run.ns.name, r: run.runId, q: query.id }),
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      workflowType: { name: run.workflowType },
      previousStartedEventId: run.lastCompletedStartedId,
      startedEventId: 0,
      attempt: 1,
      history: { events: run.history },
      workflowExecutionTaskQueue: { name: run.taskQueue, kind: NORMAL },
      query: query.query,
      scheduledTime: ts(this.now()),
      startedTime: ts(this.now()),
    }
  }

  private wftFromToken(token: unknown): { run: Run; wft: Wft } {
    const t = decodeToken(token)
    if (!t || t.k !== 'w') throw notFound('Workflow task not found.')
    const run = this.namespaces.get(t.n)?.runs.get(t.r)
    const wft = run?.wft
    if (!run || !isOpen(run) || !wft || wft.state !== 'started' || wft.gen !== t.g) throw notFound('Workflow task not found.')
    return { run, wft }
  }

  /** Ends the started workflow task without completing it; buffered events are flushed and a retry is scheduled. */
  private endWftUnsuccessfully(run: Run, wft: Wft, type: 'WorkflowTaskFailed' | 'WorkflowTaskTimedOut', attributes: Msg, nextAttempt: number): void {
    this.clock.cancel(wft.timer)
    this.append(run, type, { scheduledEventId: wft.scheduledEventId, startedEventId: wft.startedEventId, ...attributes })
    run.wft = null
    const pending = wft.queries.filter((q) => !q.done)
    for (const update of run.updates.values()) if (update.state === 'sent' && update.sentGen === wft.gen) update.state = 'requested'
    this.flushBuffer(run)
    run.queriesAfterWft.unshift(...pending)
    this.newWft(run, nextAttempt)
  }

  private wftTimedOut(run: Run, gen: number): void {
    const wft = run.wft
    if (!isOpen(run) || !wft || wft.gen !== gen || wft.state !== 'started') return
    this.endWftUnsuccessfully(run, wft, 'WorkflowTaskTimedOut', { timeoutType: 'TIMEOUT_TYPE_START_TO_CLOSE' }, wft.attempt + 1)
  }

  private afterWftEnded(run: Run): void {
    // Queries that waited for the started task go with the next one, or straight to a query task.
    if (run.queriesAfterWft.length === 0) return
    if (run.wft && run.wft.state === 'scheduled') {
      run.wft.queries.push(...run.queriesAfterWft)
    } else if (!run.wft) {
      for (const q of run.queriesAfterWft) this.dispatchDirectQuery(q)
    } else {
      return
    }
    run.queriesAfterWft = []
  }

  // ---------------------------------------------------------------- start

  private startRun(ns: Namespace, p: StartParams): Run {
    const now = this.now()
    const runId = randomUUID()
    const firstRunId = p.firstRunId ?? runId
    const executionExpiration = p.executionExpiration ?? (p.executionTimeoutMs > 0 ? now + p.executionTimeoutMs : 0)
    let runTimeoutMs = p.runTimeoutMs
    if (p.executionTimeoutMs > 0 && (runTimeoutMs === 0 || runTimeoutMs > p.executionTimeoutMs)) runTimeoutMs = p.executionTimeoutMs
    const run: Run = {
      ns,
      workflowId: p.workflowId,
      runId,
      firstRunId,
      workflowType: p.workflowType,
      taskQueue: p.taskQueue,
      status: 'RUNNING',
      history: [],
      historyBytes: 0,
      startTime: now,
      executionTime: now + (p.firstWftBackoffMs ?? 0),
      wftTimeoutMs: p.wftTimeoutMs > 0 ? p.wftTimeoutMs : DEFAULT_WFT_TIMEOUT_MS,
      runTimeoutMs,
      executionTimeoutMs: p.executionTimeoutMs,
      executionExpiration,
      retryPolicy: p.retryPolicy,
      cronSchedule: p.cronSchedule,
      attempt: p.attempt ?? 1,
      memo: { ...(p.memo?.fields ?? {}) },
      searchAttributes: { ...(p.searchAttributes?.indexedFields ?? {}) },
      startRequestId: p.requestId,
      wft: null,
      wftGen: 0,
      needsWft: false,
      buffer: [],
      lastCompletedStartedId: 0,
      activities: new Map(),
      timers: new Map(),
      children: new Map(),
      runTimers: [],
      cancelRequested: false,
      signalRequestIds: new Set(),
      waiters: new Set(),
      queriesAfterWft: [],
      parent: p.parent,
      root: p.root ?? { workflowId: p.workflowId, runId },
      inFlight: 0,
      stateTransitions: 0,
      updates: new Map(),
      awaitingFirstTask: false,
    }
    for (const [name, payload] of Object.entries<Msg>(run.searchAttributes)) {
      if (payload == null || isEmptyPayload(payload)) delete run.searchAttributes[name]
      else run.searchAttributes[name] = this.searchAttributes.annotate(name, payload)
    }
    const runs = ns.executions.get(p.workflowId) ?? []
    runs.push(run)
    ns.executions.set(p.workflowId, runs)
    ns.runs.set(runId, run)
    this.openRuns.add(run)

    this.append(run, 'WorkflowExecutionStarted', {
      workflowType: { name: p.workflowType },
      taskQueue: { name: p.taskQueue, kind: NORMAL },
      input: p.input,
      workflowExecutionTimeout: dur(p.executionTimeoutMs),
      workflowRunTimeout: dur(runTimeoutMs),
      workflowTaskTimeout: dur(run.wftTimeoutMs),
      identity: p.identity,
      attempt: run.attempt,
      originalExecutionRunId: runId,
      firstExecutionRunId: firstRunId,
      continuedExecutionRunId: p.continuedRunId,
      initiator: p.initiator,
      continuedFailure: p.continuedFailure,
      lastCompletionResult: p.lastCompletionResult,
      retryPolicy: p.retryPolicy,
      cronSchedule: p.cronSchedule,
      firstWorkflowTaskBackoff: p.firstWftBackoffMs ? dur(p.firstWftBackoffMs) : undefined,
      memo: p.memo,
      searchAttributes: p.searchAttributes,
      header: p.header,
      parentWorkflowNamespace: p.parentNamespace,
      parentWorkflowNamespaceId: p.parent ? this.namespaces.get(p.parent.namespace)?.id : undefined,
      parentWorkflowExecution: p.parent ? { workflowId: p.parent.workflowId, runId: p.parent.runId } : undefined,
      parentInitiatedEventId: p.parent?.initiatedEventId,
      rootWorkflowExecution: { workflowId: run.root.workflowId, runId: run.root.runId },
      workflowExecutionExpirationTime: executionExpiration > 0 ? ts(executionExpiration) : undefined,
      workflowId: p.workflowId,
      priority: p.priority,
    })
    if (p.signal) {
      this.append(run, 'WorkflowExecutionSignaled', {
        signalName: p.signal.signalName,
        input: p.signal.input,
        header: p.signal.header,
        identity: p.signal.identity,
      })
    }
    const backoffMs = p.firstWftBackoffMs ?? 0
    if (runTimeoutMs > 0) run.runTimers.push(this.clock.after(backoffMs + runTimeoutMs, () => this.timeOutRun(run)))
    if (backoffMs > 0) {
      run.awaitingFirstTask = true
      run.runTimers.push(
        this.clock.after(backoffMs, () => {
          run.awaitingFirstTask = false
          this.scheduleWft(run)
        }),
      )
    } else {
      this.newWft(run, 1)
    }
    return run
  }

  private startParamsFromRequest(r: Msg): StartParams {
    if (!r.workflowId) throw invalidArgument('WorkflowId is not set on request.')
    if (!r.workflowType?.name) throw invalidArgument('WorkflowType is not set on request.')
    if (!r.taskQueue?.name) throw invalidArgument('TaskQueue is not set on request.')
    if (r.workflowId.length > 1000) throw invalidArgument('WorkflowId exceeds length limit.')
    this.searchAttributes.validate(r.searchAttributes)
    if (r.cronSchedule) throw new RpcError(grpc.status.UNIMPLEMENTED, 'Cron schedules (cronSchedule) are not supported by the test server')
    const retryPolicy = r.retryPolicy ? this.normalizeRetryPolicy(r.retryPolicy) : undefined
    return {
      workflowId: r.workflowId,
      workflowType: r.workflowType.name,
      taskQueue: r.taskQueue.name,
      input: r.input,
      executionTimeoutMs: toMs(r.workflowExecutionTimeout),
      runTimeoutMs: toMs(r.workflowRunTimeout),
      wftTimeoutMs: toMs(r.workflowTaskTimeout),
      identity: r.identity,
      requestId: r.requestId,
      retryPolicy,
      cronSchedule: r.cronSchedule || undefined,
      memo: r.memo,
      searchAttributes: r.searchAttributes,
      header: r.header,
      firstWftBackoffMs: toMs(r.workflowStartDelay) || undefined,
      priority: r.priority,
      userMetadata: r.userMetadata,
    }
  }

  /**
   * Applies the id reuse and conflict policies. Returns the run to use when no new run must be started.
   */
  private resolveIdPolicies(ns: Namespace, r: Msg, defaultConflict: string): { existing?: Run; started: boolean } | null {
    let reuse: string = r.workflowIdReusePolicy || 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE'
    let conflict: string = r.workflowIdConflictPolicy || ''
    if (reuse === 'WORKFLOW_ID_REUSE_POLICY_UNSPECIFIED') reuse = 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE'
    if (conflict === 'WORKFLOW_ID_CONFLICT_POLICY_UNSPECIFIED') conflict = ''
    if (reuse === 'WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING') {
      if (conflict) {
        throw invalidArgument('Invalid WorkflowIDReusePolicy: WORKFLOW_ID_REUSE_POLICY_TERMINATE_IF_RUNNING cannot be used together with a WorkflowIDConflictPolicy.')
      }
      conflict = 'WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING'
      reuse = 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE'
    }
    if (!conflict) conflict = defaultConflict
    if (conflict === 'WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING' && reuse === 'WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE') {
      throw invalidArgument('Invalid WorkflowIDReusePolicy: WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE cannot be used together with WorkflowIdConflictPolicy WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING.')
    }
    const latest = this.latestRun(ns, r.workflowId)
    if (!latest) return null
    if (r.requestId && latest.startRequestId === r.requestId) return { existing: latest, started: true }
    if (isOpen(latest)) {
      switch (conflict) {
        case 'WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING':
          return { existing: latest, started: false }
        case 'WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING':
          this.terminateRun(latest, 'TerminateIfRunning WorkflowIdReusePolicy Policy', undefined, r.identity)
          return null
        default:
          throw this.alreadyStarted(latest, r.workflowId)
      }
    }
    if (reuse === 'WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE') throw this.alreadyStarted(latest, r.workflowId)
    if (reuse === 'WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY' && (latest.status === 'COMPLETED' || latest.status === 'CONTINUED_AS_NEW')) {
      throw this.alreadyStarted(latest, r.workflowId)
    }
    return null
  }

  private alreadyStarted(run: Run, workflowId: string): RpcError {
    return new RpcError(grpc.status.ALREADY_EXISTS, `Workflow execution is already running. WorkflowId: ${workflowId}, RunId: ${run.runId}.`, [
      {
        typeName: 'temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure',
        value: { startRequestId: run.startRequestId ?? '', runId: run.runId },
      },
    ])
  }

  startWorkflowExecution(r: Msg): Msg {
    const ns = this.namespace(r.namespace)
    const params = this.startParamsFromRequest(r)
    const resolved = this.resolveIdPolicies(ns, r, 'WORKFLOW_ID_CONFLICT_POLICY_FAIL')
    if (resolved?.existing) {
      return { runId: resolved.existing.runId, started: resolved.started, status: `WORKFLOW_EXECUTION_STATUS_${resolved.existing.status}` }
    }
    const run = this.startRun(ns, params)
    return { runId: run.runId, started: true, status: 'WORKFLOW_EXECUTION_STATUS_RUNNING' }
  }

  signalWithStartWorkflowExecution(r: Msg): Msg {
    const ns = this.namespace(r.namespace)
    if (!r.signalName) throw invalidArgument('SignalName is not set on request.')
    const params = this.startParamsFromRequest(r)
    const resolved = this.resolveIdPolicies(ns, r, 'WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING')
    if (resolved?.existing && isOpen(resolved.existing)) {
      this.signal(resolved.existing, { signalName: r.signalName, input: r.signalInput, header: r.header, identity: r.identity }, r.requestId)
      return { runId: resolved.existing.runId, started: false }
    }
    const run = this.startRun(ns, {
      ...params,
      signal: { signalName: r.signalName, input: r.signalInput, header: r.header, identity: r.identity },
    })
    return { runId: run.runId, started: true }
  }

  // ---------------------------------------------------------------- signals, cancel, terminate

  private signal(run: Run, s: { signalName: string; input?: Msg; header?: Msg; identity?: string; externalWorkflowExecution?: Msg }, requestId?: string): void {
    if (requestId) {
      if (run.signalRequestIds.has(requestId)) return
      run.signalRequestIds.add(requestId)
    }
    this.deliver(run, {
      kind: 'signal',
      apply: () =>
        this.append(run, 'WorkflowExecutionSignaled', {
          signalName: s.signalName,
          input: s.input,
          identity: s.identity,
          header: s.header,
          externalWorkflowExecution: s.externalWorkflowExecution,
        }),
    })
  }

  signalWorkflowExecution(r: Msg): Msg {
    const ns = this.namespace(r.namespace)
    const run = this.findRun(ns, r.workflowExecution)
    if (!isOpen(run)) throw notFound('workflow execution already completed')
    if (!r.signalName) throw invalidArgument('SignalName is not set on request.')
    this.signal(run, { signalName: r.signalName, input: r.input, header: r.header, identity: r.identity }, r.requestId)
    return {}
  }

  private requestCancel(run: Run, attributes: Msg): void {
    if (run.cancelRequested) return
    run.cancelRequested = true
    this.deliver(run, { kind: 'cancel', apply: () => this.append(run, 'WorkflowExecutionCancelRequested', attributes) })
  }

  requestCancelWorkflowExecution(r: Msg): Msg {
    const ns = this.namespace(r.namespace)
    const run = this.findRun(ns, r.workflowExecution, r.firstExecutionRunId)
    if (!isOpen(run)) throw notFound('workflow execution already completed')
    this.requestCancel(run, { cause: r.reason || undefined, identity: r.identity })
    return {}
  }

  terminateWorkflowExecution(r: Msg): Msg {
    const ns = this.namespace(r.namespace)
    const run = this.findRun(ns, r.workflowExecution, r.firstExecutionRunId)
    if (!isOpen(run)) throw notFound('workflow execution already completed')
    this.terminateRun(run, r.reason, r.details, r.identity)
    return {}
  }

  private terminateRun(run: Run, reason: string | undefined, details: Msg | undefined, identity: string | undefined): void {
    this.closeRun(run, 'TERMINATED', 'WorkflowExecutionTerminated', { reason, details, identity })
  }

  private timeOutRun(run: Run): void {
    if (!isOpen(run)) return
    this.closeRun(run, 'TIMED_OUT', 'WorkflowExecutionTimedOut', { retryState: 'RETRY_STATE_TIMEOUT' })
  }

  /** Writes the close event and releases everything the run holds. */
  private closeRun(run: Run, status: RunStatus, type: string, attributes: Msg): Msg {
    if (run.wft) this.clock.cancel(run.wft.timer)
    const pendingQueries = [...(run.wft?.queries ?? []), ...run.queriesAfterWft].filter((q) => !q.done)
    run.wft = null
    run.buffer = []
    run.needsWft = false
    run.queriesAfterWft = []
    const event = this.append(run, type, attributes)
    run.status = status
    run.closeTime = this.now()
    run.closeEvent = event
    for (const t of run.runTimers) this.clock.cancel(t)
    for (const { timer } of run.timers.values()) this.clock.cancel(timer)
    run.timers.clear()
    for (const activity of run.activities.values()) this.releaseActivityTimers(activity, true)
    run.activities.clear()
    this.openRuns.delete(run)
    for (const q of pendingQueries) this.dispatchDirectQuery(q)
    for (const update of run.updates.values()) this.wakeUpdate(update)
    this.applyParentClosePolicies(run)
    if (status !== 'CONTINUED_AS_NEW' && !attributes.newExecutionRunId) this.notifyParent(run, status, attributes)
    this.wakeWaiters(run)
    this.clock.poke()
    return event
  }

  // ---------------------------------------------------------------- worker RPCs: workflow tasks

  pollWorkflowTaskQueue(r: Msg, call: grpc.ServerUnaryCall<Msg, Msg>): Msg | Promise<Msg> {
    const ns = this.namespace(r.namespace)
    const name: string | undefined = r.taskQueue?.name
    if (!name) throw invalidArgument('TaskQueue is not set on request.')
    const identity: string = r.identity ?? ''
    return this.poll(this.queue(ns.name, 'wf', name), call, (ref) => this.takeWft(ref, identity))
  }

  respondWorkflowTaskCompleted(r: Msg): Msg {
    const { run, wft } = this.wftFromToken(r.taskToken)
    this.answerQueries(wft, r.queryResults)
    const commands: Msg[] = r.commands ?? []
    const identity: string | undefined = r.identity
    const closeIndex = commands.findIndex((c) => CLOSING_COMMANDS.has(c.commandType))
    if (closeIndex >= 0 && closeIndex !== commands.length - 1) {
      const cause = 'WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES'
      const message = 'A workflow-closing command must be the last command of a workflow task'
      this.endWftUnsuccessfully(run, wft, 'WorkflowTaskFailed', { cause, failure: { message }, identity }, wft.attempt + 1)
      this.afterWftEnded(run)
      throw invalidArgument(message)
    }
    const undelivered = [...run.updates.values()].some((u) => u.state === 'requested')
    if (closeIndex >= 0 && (run.buffer.length > 0 || undelivered)) {
      this.endWftUnsuccessfully(run, wft, 'WorkflowTaskFailed', { cause: 'WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND', identity }, 1)
      this.afterWftEnded(run)
      throw invalidArgument('UnhandledCommand')
    }
    try {
      this.validateCommands(run, commands, r.messages ?? [])
    } catch (error) {
      if (!(error instanceof BadCommand)) throw error
      this.endWftUnsuccessfully(run, wft, 'WorkflowTaskFailed', { cause: error.failedCause, failure: { message: error.message }, identity }, wft.attempt + 1)
      this.afterWftEnded(run)
      throw invalidArgument(error.message)
    }

    this.clock.cancel(wft.timer)
    const completed = this.append(run, 'WorkflowTaskCompleted', {
      scheduledEventId: wft.scheduledEventId,
      startedEventId: wft.startedEventId,
      identity,
      binaryChecksum: r.binaryChecksum,
      workerVersion: r.workerVersionStamp,
      sdkMetadata: r.sdkMetadata,
      meteringMetadata: r.meteringMetadata,
      deployment: r.deployment,
      versioningBehavior: r.versioningBehavior,
    })
    run.wft = null
    run.lastCompletedStartedId = wft.startedEventId
    run.queriesAfterWft.unshift(...wft.queries.filter((q) => !q.done))
    const after: (() => void)[] = []
    let needsWft = run.needsWft || Boolean(r.forceCreateNewWorkflowTask)
    run.needsWft = false
    const messages = new Map<string, Msg>((r.messages ?? []).map((m: Msg) => [m.id, m]))
    for (const command of commands) {
      if (command.commandType === 'COMMAND_TYPE_PROTOCOL_MESSAGE') {
        const messageId: string = command.protocolMessageCommandAttributes?.messageId
        const message = messages.get(messageId)
        messages.delete(messageId)
        if (message) this.applyUpdateMessage(run, message)
        continue
      }
      const result = this.applyCommand(run, command, completed.eventId, identity, after)
      if (result) needsWft = true
      if (!isOpen(run)) break
    }
    // Messages without a command (rejections) take effect after the commands.
    for (const message of messages.values()) if (isOpen(run)) this.applyUpdateMessage(run, message)
    for (const update of run.updates.values()) {
      if (update.state === 'sent' && update.sentGen === wft.gen) update.state = 'requested'
      if (update.state === 'requested') needsWft = true
    }
    if (isOpen(run)) {
      if (this.flushBuffer(run)) needsWft = true
      if (needsWft) this.scheduleWft(run)
      this.afterWftEnded(run)
    }
    for (const action of after) action()
    this.clock.poke()
    return {}
  }

  respondWorkflowTaskFailed(r: Msg): Msg {
    const t = decodeToken(r.taskToken)
    if (t?.k === 'q') {
      this.completeQuery(t, { completedType: 'QUERY_RESULT_TYPE_FAILED', errorMessage: r.failure?.message ?? 'query failed' })
      return {}
    }
    const { run, wft } = this.wftFromToken(r.taskToken)
    this.endWftUnsuccessfully(
      run,
      wft,
      'WorkflowTaskFailed',
      { cause: r.cause || 'WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED', failure: r.failure, identity: r.identity, binaryChecksum: r.binaryChecksum },
      wft.attempt + 1,
    )
    this.afterWftEnded(run)
    return {}
  }

  private validateCommands(run: Run, commands: Msg[], messages: Msg[]): void {
    const messageIds = new Set(messages.map((m) => m.id))
    const timers = new Set(run.timers.keys())
    const activityIds = new Set([...run.activities.values()].map((a) => a.activityId))
    const children = new Set([...run.children.values()].map((c) => c.workflowId))
    for (const command of commands) {
      const a: Msg = command[commandAttributesKey(command.commandType ?? '')] ?? {}
      switch (command.commandType) {
        case 'COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK': {
          const bad = (m: string) => new BadCommand('WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES', m)
          if (!a.activityId) throw bad('ActivityId is not set.')
          if (!a.activityType?.name) throw bad('ActivityType is not set.')
          if (activityIds.has(a.activityId)) throw bad(`Activity with id ${a.activityId} is already open.`)
          if (toMs(a.scheduleToCloseTimeout) <= 0 && toMs(a.startToCloseTimeout) <= 0) {
            throw bad('A valid StartToClose or ScheduleToCloseTimeout is not set on command.')
          }
          for (const f of ['scheduleToCloseTimeout', 'scheduleToStartTimeout', 'startToCloseTimeout', 'heartbeatTimeout']) {
            if (toMs(a[f]) < 0) throw bad(`${f} is negative.`)
          }
          if (a.retryPolicy) this.normalizeRetryPolicy(a.retryPolicy, bad)
          activityIds.add(a.activityId)
          break
        }
        case 'COMMAND_TYPE_START_TIMER': {
          const bad = (m: string) => new BadCommand('WORKFLOW_TASK_FAILED_CAUSE_BAD_START_TIMER_ATTRIBUTES', m)
          if (!a.timerId) throw bad('TimerId is not set.')
          if (timers.has(a.timerId)) throw bad(`Timer with id ${a.timerId} is already open.`)
          if (toMs(a.startToFireTimeout) <= 0) throw bad('A valid StartToFireTimeout is not set on command.')
          timers.add(a.timerId)
          break
        }
        case 'COMMAND_TYPE_CANCEL_TIMER': {
          const firedButBuffered = run.buffer.some((b) => b.kind === 'timerFired' && b.key === a.timerId)
          if (!timers.has(a.timerId) && !firedButBuffered) {
            throw new BadCommand('WORKFLOW_TASK_FAILED_CAUSE_BAD_CANCEL_TIMER_ATTRIBUTES', `Timer with id ${a.timerId} is not open.`)
          }
          timers.delete(a.timerId)
          break
        }
        case 'COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION': {
          const bad = (m: string) => new BadCommand('WORKFLOW_TASK_FAILED_CAUSE_BAD_START_CHILD_EXECUTION_ATTRIBUTES', m)
          if (!a.workflowId) throw bad('WorkflowId is not set.')
          if (!a.workflowType?.name) throw bad('WorkflowType is not set.')
          if (children.has(a.workflowId)) throw bad(`Child workflow with id ${a.workflowId} is already open.`)
          children.add(a.workflowId)
          if (a.cronSchedule) throw bad('Cron schedules are not supported by the test server.')
          try {
            this.searchAttributes.validate(a.searchAttributes)
          } catch (error) {
            throw new BadCommand('WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES', (error as Error).message)
          }
          break
        }
        case 'COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES':
          try {
            this.searchAttributes.validate(a.searchAttributes)
          } catch (error) {
            throw new BadCommand('WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES', (error as Error).message)
          }
          break
        case 'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION':
          try {
            this.searchAttributes.validate(a.searchAttributes)
          } catch (error) {
            throw new BadCommand('WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES', (error as Error).message)
          }
          break
        case 'COMMAND_TYPE_PROTOCOL_MESSAGE':
          if (!messageIds.has(a.messageId)) {
            throw new BadCommand('WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE', `Protocol message ${a.messageId} is not in the task completion.`)
          }
          break
        case 'COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK':
        case 'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION':
        case 'COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION':
        case 'COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION':
        case 'COMMAND_TYPE_RECORD_MARKER':
        case 'COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION':
        case 'COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION':
        case 'COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES':
          break
        default:
          throw new BadCommand('WORKFLOW_TASK_FAILED_CAUSE_UNSPECIFIED', `Command ${command.commandType} is not supported by the test server`)
      }
    }
  }

  /** Applies one validated command; returns true when it requires a new workflow task. */
  private applyCommand(run: Run, command: Msg, wftCompletedId: number, identity: string | undefined, after: (() => void)[]): boolean {
    const a: Msg = command[commandAttributesKey(command.commandType)] ?? {}
    switch (command.commandType) {
      case 'COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK':
        this.scheduleActivity(run, a, wftCompletedId)
        return false
      case 'COMMAND_TYPE_REQUEST_CANCEL_ACTIVITY_TASK':
        return this.requestCancelActivity(run, a, wftCompletedId)
      case 'COMMAND_TYPE_START_TIMER': {
        const event = this.append(run, 'TimerStarted', {
          timerId: a.timerId,
          startToFireTimeout: a.startToFireTimeout,
          workflowTaskCompletedEventId: wftCompletedId,
        })
        const timerId: string = a.timerId
        const startedEventId: number = event.eventId
        const timer = this.clock.after(toMs(a.startToFireTimeout), () => {
          const open = run.timers.get(timerId)
          if (!open || open.startedEventId !== startedEventId) return
          run.timers.delete(timerId)
          this.deliver(run, {
            kind: 'timerFired',
            key: timerId,
            apply: () => this.append(run, 'TimerFired', { timerId, startedEventId }),
          })
        })
        run.timers.set(timerId, { startedEventId, timer })
        return false
      }
      case 'COMMAND_TYPE_CANCEL_TIMER': {
        const open = run.timers.get(a.timerId)
        let startedEventId = open?.startedEventId ?? 0
        if (open) {
          this.clock.cancel(open.timer)
          run.timers.delete(a.timerId)
        } else {
          // It fired while this task ran: drop the buffered firing, as the real server does.
          const i = run.buffer.findIndex((b) => b.kind === 'timerFired' && b.key === a.timerId)
          if (i >= 0) run.buffer.splice(i, 1)
          const started = [...run.history].reverse().find((e) => e.timerStartedEventAttributes?.timerId === a.timerId)
          startedEventId = started?.eventId ?? 0
        }
        this.append(run, 'TimerCanceled', { timerId: a.timerId, startedEventId, workflowTaskCompletedEventId: wftCompletedId, identity })
        return false
      }
      case 'COMMAND_TYPE_RECORD_MARKER':
        this.append(run, 'MarkerRecorded', {
          markerName: a.markerName,
          details: a.details,
          header: a.header,
          failure: a.failure,
          workflowTaskCompletedEventId: wftCompletedId,
        })
        return false
      case 'COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES':
        this.append(run, 'UpsertWorkflowSearchAttributes', { searchAttributes: a.searchAttributes, workflowTaskCompletedEventId: wftCompletedId })
        for (const [name, payload] of Object.entries<Msg>(a.searchAttributes?.indexedFields ?? {})) {
          if (payload == null || isEmptyPayload(payload)) delete run.searchAttributes[name]
          else run.searchAttributes[name] = this.searchAttributes.annotate(name, payload)
        }
        return false
      case 'COMMAND_TYPE_MODIFY_WORKFLOW_PROPERTIES':
        this.append(run, 'WorkflowPropertiesModified', { upsertedMemo: a.upsertedMemo, workflowTaskCompletedEventId: wftCompletedId })
        for (const [name, payload] of Object.entries<Msg>(a.upsertedMemo?.fields ?? {})) {
          if (payload == null || isEmptyPayload(payload)) delete run.memo[name]
          else run.memo[name] = payload
        }
        return false
      case 'COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION':
        this.closeRun(run, 'COMPLETED', 'WorkflowExecutionCompleted', { result: a.result, workflowTaskCompletedEventId: wftCompletedId })
        return false
      case 'COMMAND_TYPE_FAIL_WORKFLOW_EXECUTION':
        this.failWorkflow(run, a, wftCompletedId)
        return false
      case 'COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION':
        this.closeRun(run, 'CANCELED', 'WorkflowExecutionCanceled', { details: a.details, workflowTaskCompletedEventId: wftCompletedId })
        return false
      case 'COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION':
        this.continueAsNew(run, a, wftCompletedId)
        return false
      case 'COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION':
        this.initiateChild(run, a, wftCompletedId, after)
        return false
      case 'COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION':
        this.initiateSignalExternal(run, a, wftCompletedId, after)
        return false
      case 'COMMAND_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION':
        this.initiateCancelExternal(run, a, wftCompletedId, after)
        return false
      default:
        throw new Error(`unexpected command ${command.commandType}`)
    }
  }

  private failWorkflow(run: Run, a: Msg, wftCompletedId: number): void {
    const policy = run.retryPolicy
    if (policy) {
      const decision = this.retryDecision(policy, run.attempt, a.failure, run.executionExpiration)
      if (decision.retry) {
        const newRunId = this.startRetryRun(run, decision.delayMs, a.failure)
        this.closeRun(run, 'FAILED', 'WorkflowExecutionFailed', {
          failure: a.failure,
          retryState: 'RETRY_STATE_IN_PROGRESS',
          workflowTaskCompletedEventId: wftCompletedId,
          newExecutionRunId: newRunId,
        })
        return
      }
      this.closeRun(run, 'FAILED', 'WorkflowExecutionFailed', { failure: a.failure, retryState: decision.state, workflowTaskCompletedEventId: wftCompletedId })
      return
    }
    this.closeRun(run, 'FAILED', 'WorkflowExecutionFailed', {
      failure: a.failure,
      retryState: 'RETRY_STATE_RETRY_POLICY_NOT_SET',
      workflowTaskCompletedEventId: wftCompletedId,
    })
  }

  /** Starts the next attempt of a failed workflow and returns its run id (the old run is closed by the caller). */
  private startRetryRun(run: Run, delayMs: number, failure: Msg): string {
    const started = run.history[0]!.workflowExecutionStartedEventAttributes as Msg
    const next = this.startRun(run.ns, {
      workflowId: run.workflowId,
      workflowType: run.workflowType,
      taskQueue: run.taskQueue,
      input: started.input,
      executionTimeoutMs: run.executionTimeoutMs,
      runTimeoutMs: toMs(started.workflowRunTimeout),
      wftTimeoutMs: run.wftTimeoutMs,
      executionExpiration: run.executionExpiration,
      retryPolicy: run.retryPolicy,
      memo: started.memo,
      searchAttributes: { indexedFields: run.searchAttributes },
      header: started.header,
      firstWftBackoffMs: delayMs,
      attempt: run.attempt + 1,
      firstRunId: run.firstRunId,
      continuedRunId: run.runId,
      initiator: 'CONTINUE_AS_NEW_INITIATOR_RETRY',
      continuedFailure: failure,
      parent: run.parent,
      parentNamespace: started.parentWorkflowNamespace,
      root: run.root,
    })
    this.moveChildLink(run, next)
    run.newExecutionRunId = next.runId
    return next.runId
  }

  private continueAsNew(run: Run, a: Msg, wftCompletedId: number): void {
    const started = run.history[0]!.workflowExecutionStartedEventAttributes as Msg
    const runTimeoutMs = toMs(a.workflowRunTimeout) || toMs(started.workflowRunTimeout)
    const next = this.startRun(run.ns, {
      workflowId: run.workflowId,
      workflowType: a.workflowType?.name || run.workflowType,
      taskQueue: a.taskQueue?.name || run.taskQueue,
      input: a.input,
      executionTimeoutMs: run.executionTimeoutMs,
      runTimeoutMs,
      wftTimeoutMs: toMs(a.workflowTaskTimeout) || run.wftTimeoutMs,
      executionExpiration: run.executionExpiration,
      retryPolicy: a.retryPolicy ? this.normalizeRetryPolicy(a.retryPolicy) : run.retryPolicy,
      memo: a.memo ?? (Object.keys(run.memo).length ? { fields: run.memo } : undefined),
      searchAttributes: a.searchAttributes ?? (Object.keys(run.searchAttributes).length ? { indexedFields: run.searchAttributes } : undefined),
      header: a.header,
      firstWftBackoffMs: toMs(a.backoffStartInterval) || undefined,
      firstRunId: run.firstRunId,
      continuedRunId: run.runId,
      initiator: a.initiator || 'CONTINUE_AS_NEW_INITIATOR_WORKFLOW',
      continuedFailure: a.failure,
      lastCompletionResult: a.lastCompletionResult,
      parent: run.parent,
      parentNamespace: started.parentWorkflowNamespace,
      root: run.root,
    })
    this.moveChildLink(run, next)
    run.newExecutionRunId = next.runId
    this.closeRun(run, 'CONTINUED_AS_NEW', 'WorkflowExecutionContinuedAsNew', {
      newExecutionRunId: next.runId,
      workflowType: { name: next.workflowType },
      taskQueue: { name: next.taskQueue, kind: NORMAL },
      input: a.input,
      workflowRunTimeout: dur(next.runTimeoutMs),
      workflowTaskTimeout: dur(next.wftTimeoutMs),
      workflowTaskCompletedEventId: wftCompletedId,
      backoffStartInterval: a.backoffStartInterval,
      initiator: a.initiator || 'CONTINUE_AS_NEW_INITIATOR_WORKFLOW',
      failure: a.failure,
      lastCompletionResult: a.lastCompletionResult,
      header: a.header,
      memo: a.memo,
      searchAttributes: a.searchAttributes,
    })
  }

  // ---------------------------------------------------------------- activities

  normalizeRetryPolicy(p: Msg | undefined, bad: (m: string) => Error = invalidArgument): Msg {
    const initial = toMs(p?.initialInterval) || 1000
    const coefficient = p?.backoffCoefficient || 2
    const maximum = toMs(p?.maximumInterval) || 100 * initial
    if (toMs(p?.initialInterval) < 0) throw bad('InitialInterval cannot be negative on retry policy.')
    if (coefficient < 1) throw bad('BackoffCoefficient cannot be less than 1 on retry policy.')
    if (toMs(p?.maximumInterval) < 0) throw bad('MaximumInterval cannot be negative on retry policy.')
    if (maximum < initial) throw bad('MaximumInterval cannot be less than InitialInterval on retry policy.')
    if ((p?.maximumAttempts ?? 0) < 0) throw bad('MaximumAttempts cannot be negative on retry policy.')
    return {
      initialInterval: dur(initial),
      backoffCoefficient: coefficient,
      maximumInterval: dur(maximum),
      maximumAttempts: p?.maximumAttempts ?? 0,
      nonRetryableErrorTypes: p?.nonRetryableErrorTypes ?? [],
    }
  }

  private retryDecision(policy: Msg, attempt: number, failure: Msg | undefined, expiration: number): { retry: true; delayMs: number } | { retry: false; state: string } {
    const info = failure?.applicationFailureInfo
    if (info?.nonRetryable) return { retry: false, state: 'RETRY_STATE_NON_RETRYABLE_FAILURE' }
    const types: string[] = policy.nonRetryableErrorTypes ?? []
    if (info?.type && types.includes(info.type)) return { retry: false, state: 'RETRY_STATE_NON_RETRYABLE_FAILURE' }
    if (failure?.timeoutFailureInfo && types.includes(`TemporalTimeout:${timeoutTypeShort(failure.timeoutFailureInfo.timeoutType)}`)) {
      return { retry: false, state: 'RETRY_STATE_NON_RETRYABLE_FAILURE' }
    }
    if (policy.maximumAttempts > 0 && attempt >= policy.maximumAttempts) return { retry: false, state: 'RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED' }
    const initial = toMs(policy.initialInterval) || 1000
    const maximum = toMs(policy.maximumInterval) || 100 * initial
    const explicit = toMs(info?.nextRetryDelay)
    const delayMs = explicit > 0 ? explicit : Math.min(initial * Math.pow(policy.backoffCoefficient || 2, attempt - 1), maximum)
    if (expiration > 0 && this.now() + delayMs >= expiration) return { retry: false, state: 'RETRY_STATE_TIMEOUT' }
    return { retry: true, delayMs: Math.round(delayMs) }
  }

  private scheduleActivity(run: Run, a: Msg, wftCompletedId: number): void {
    let s2c = toMs(a.scheduleToCloseTimeout)
    let s2s = toMs(a.scheduleToStartTimeout)
    let st2c = toMs(a.startToCloseTimeout)
    let hb = toMs(a.heartbeatTimeout)
    const runTimeout = run.runTimeoutMs
    if (s2c > 0) {
      s2s = s2s > 0 ? Math.min(s2s, s2c) : s2c
      st2c = st2c > 0 ? Math.min(st2c, s2c) : s2c
    } else {
      s2c = runTimeout
      if (s2s <= 0) s2s = runTimeout
    }
    if (runTimeout > 0) {
      s2c = s2c > 0 ? Math.min(s2c, runTimeout) : runTimeout
      s2s = s2s > 0 ? Math.min(s2s, runTimeout) : runTimeout
      st2c = st2c > 0 ? Math.min(st2c, runTimeout) : runTimeout
      hb = Math.min(hb, runTimeout)
    }
    if (s2c > 0 && hb > s2c) hb = s2c
    const taskQueue: string = a.taskQueue?.name || run.taskQueue
    const retryPolicy = this.normalizeRetryPolicy(a.retryPolicy)
    const event = this.append(run, 'ActivityTaskScheduled', {
      activityId: a.activityId,
      activityType: a.activityType,
      taskQueue: { name: taskQueue, kind: NORMAL },
      header: a.header,
      input: a.input,
      scheduleToCloseTimeout: dur(s2c),
      scheduleToStartTimeout: dur(s2s),
      startToCloseTimeout: dur(st2c),
      heartbeatTimeout: dur(hb),
      workflowTaskCompletedEventId: wftCompletedId,
      retryPolicy,
      useWorkflowBuildId: a.useWorkflowBuildId,
      priority: a.priority,
    })
    const now = this.now()
    const activity: Activity = {
      run,
      scheduledEventId: event.eventId,
      activityId: a.activityId,
      activityType: a.activityType.name,
      taskQueue,
      input: a.input,
      header: a.header,
      priority: a.priority,
      scheduleToCloseMs: s2c,
      scheduleToStartMs: s2s,
      startToCloseMs: st2c,
      heartbeatMs: hb,
      retryPolicy,
      attempt: 1,
      state: 'scheduled',
      cancelRequested: false,
      latestCancelRequestedEventId: 0,
      scheduledTime: now,
      currentAttemptScheduledTime: now,
      expiration: s2c > 0 ? now + s2c : 0,
      attemptTimers: [],
    }
    run.activities.set(activity.scheduledEventId, activity)
    if (s2c > 0) {
      activity.scheduleToCloseTimer = this.clock.after(s2c, () => this.activityTimedOut(activity, activity.attempt, 'SCHEDULE_TO_CLOSE'))
    }
    this.dispatchActivityAttempt(activity)
  }

  private dispatchActivityAttempt(activity: Activity): void {
    activity.state = 'scheduled'
    activity.currentAttemptScheduledTime = this.now()
    activity.nextAttemptScheduleTime = undefined
    const attempt = activity.attempt
    if (activity.scheduleToStartMs > 0 && activity.scheduleToStartMs !== activity.scheduleToCloseMs) {
      activity.attemptTimers.push(this.clock.after(activity.scheduleToStartMs, () => this.activityTimedOut(activity, attempt, 'SCHEDULE_TO_START')))
    }
    this.offer(this.queue(activity.run.ns.name, 'act', activity.taskQueue), { kind: 'activity', run: activity.run, activity, attempt })
    this.clock.poke()
  }

  private isCurrent(activity: Activity, attempt?: number): boolean {
    const run = activity.run
    return isOpen(run) && run.activities.get(activity.scheduledEventId) === activity && (attempt === undefined || activity.attempt === attempt)
  }

  private takeActivity(ref: TaskRef, identity: string): Msg | null {
    const activity = ref.activity!
    if (!this.isCurrent(activity, ref.attempt) || activity.state !== 'scheduled') return null
    const run = activity.run
    const now = this.now()
    this.clearAttemptTimers(activity)
    activity.state = 'started'
    activity.lastStartedTime = now
    activity.startedIdentity = identity
    activity.lastWorkerIdentity = identity
    activity.startedRequestId = randomUUID()
    activity.lastHeartbeatTime = undefined
    const attempt = activity.attempt
    if (activity.startToCloseMs > 0) {
      activity.attemptTimers.push(this.clock.after(activity.startToCloseMs, () => this.activityTimedOut(activity, attempt, 'START_TO_CLOSE')))
    }
    this.armHeartbeatTimer(activity)
    return {
      taskToken: encodeToken({ k: 'a', n: run.ns.name, r: run.runId, s: activity.scheduledEventId, a: attempt }),
      workflowNamespace: run.ns.name,
      workflowType: { name: run.workflowType },
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      activityType: { name: activity.activityType },
      activityId: activity.activityId,
      header: activity.header,
      input: activity.input,
      heartbeatDetails: activity.heartbeatDetails,
      scheduledTime: ts(activity.scheduledTime),
      currentAttemptScheduledTime: ts(activity.currentAttemptScheduledTime),
      startedTime: ts(now),
      attempt,
      scheduleToCloseTimeout: dur(activity.scheduleToCloseMs),
      startToCloseTimeout: dur(activity.startToCloseMs),
      heartbeatTimeout: dur(activity.heartbeatMs),
      retryPolicy: activity.retryPolicy,
      priority: activity.priority,
    }
  }

  private armHeartbeatTimer(activity: Activity): void {
    if (activity.heartbeatMs <= 0) return
    const attempt = activity.attempt
    const timer = this.clock.after(activity.heartbeatMs, () => {
      if (activity.state !== 'started') return
      const last = activity.lastHeartbeatTime ?? activity.lastStartedTime ?? 0
      if (this.now() < last + activity.heartbeatMs) return
      this.activityTimedOut(activity, attempt, 'HEARTBEAT')
    })
    activity.attemptTimers.push(timer)
  }

  private clearAttemptTimers(activity: Activity): void {
    for (const t of activity.attemptTimers) this.clock.cancel(t)
    activity.attemptTimers = []
  }

  private releaseActivityTimers(activity: Activity, all: boolean): void {
    this.clearAttemptTimers(activity)
    if (all) this.clock.cancel(activity.scheduleToCloseTimer)
  }

  private activityFromToken(token: unknown): Activity {
    const t = decodeToken(token)
    if (!t || t.k !== 'a') throw notFound('Activity task not found.')
    const run = this.namespaces.get(t.n)?.runs.get(t.r)
    const activity = run?.activities.get(t.s)
    if (!run || !activity || !this.isCurrent(activity, t.a) || activity.state !== 'started') throw notFound('Activity task not found.')
    return activity
  }

  private activityById(r: Msg): Activity {
    const ns = this.namespace(r.namespace)
    const run = this.findRun(ns, { workflowId: r.workflowId, runId: r.runId })
    if (!isOpen(run)) throw notFound('workflow execution already completed')
    const activity = [...run.activities.values()].find((a) => a.activityId === r.activityId)
    if (!activity) throw notFound(`Activity task not found for activity ID: ${r.activityId}`)
    if (activity.state !== 'started') {
      // Async completion may race the attempt start; treat it as started now.
      activity.state = 'started'
      activity.lastStartedTime = this.now()
      this.clearAttemptTimers(activity)
    }
    return activity
  }

  /** Appends ActivityTaskStarted (when the attempt started) and the outcome, through the buffer. */
  private finishActivity(activity: Activity, type: string, attributes: Msg): void {
    const run = activity.run
    const started = activity.state === 'started'
    this.releaseActivityTimers(activity, true)
    run.activities.delete(activity.scheduledEventId)
    const identity = activity.startedIdentity
    const attempt = activity.attempt
    const lastFailure = activity.lastFailure
    const requestId = activity.startedRequestId
    const scheduledEventId = activity.scheduledEventId
    this.deliver(run, {
      kind: 'activity',
      key: String(scheduledEventId),
      apply: () => {
        let startedEventId = 0
        if (started) {
          startedEventId = this.append(run, 'ActivityTaskStarted', { scheduledEventId, identity, requestId, attempt, lastFailure }).eventId
        }
        this.append(run, type, { scheduledEventId, startedEventId, ...attributes })
      },
    })
    this.clock.poke()
  }

  /** Handles a failed attempt: retries after a backoff or writes the final event. */
  private failActivityAttempt(activity: Activity, failure: Msg, timeoutType?: string): void {
    const decision: { retry: true; delayMs: number } | { retry: false; state: string } = activity.cancelRequested
      ? { retry: false, state: 'RETRY_STATE_CANCEL_REQUESTED' }
      : this.retryDecision(activity.retryPolicy, activity.attempt, failure, activity.expiration)
    if (decision.retry) {
      this.clearAttemptTimers(activity)
      activity.state = 'backoff'
      activity.lastFailure = failure
      activity.attempt++
      activity.nextAttemptScheduleTime = this.now() + decision.delayMs
      const attempt = activity.attempt
      activity.attemptTimers.push(
        this.clock.after(decision.delayMs, () => {
          if (this.isCurrent(activity, attempt) && activity.state === 'backoff') this.dispatchActivityAttempt(activity)
        }),
      )
      this.clock.poke()
      return
    }
    if (timeoutType) {
      this.finishActivity(activity, 'ActivityTaskTimedOut', { failure, retryState: decision.state })
    } else {
      this.finishActivity(activity, 'ActivityTaskFailed', { failure, retryState: decision.state, identity: activity.lastWorkerIdentity })
    }
  }

  private timeoutFailure(activity: Activity, timeoutType: string): Msg {
    const label = { START_TO_CLOSE: 'StartToClose', SCHEDULE_TO_START: 'ScheduleToStart', SCHEDULE_TO_CLOSE: 'ScheduleToClose', HEARTBEAT: 'Heartbeat' }[
      timeoutType
    ]
    return {
      message: `activity ${label} timeout`,
      source: '',
      timeoutFailureInfo: { timeoutType: `TIMEOUT_TYPE_${timeoutType}`, lastHeartbeatDetails: activity.heartbeatDetails },
    }
  }

  private activityTimedOut(activity: Activity, attempt: number, timeoutType: string): void {
    if (!this.isCurrent(activity)) return
    if (timeoutType !== 'SCHEDULE_TO_CLOSE' && activity.attempt !== attempt) return
    const failure = this.timeoutFailure(activity, timeoutType)
    if (timeoutType === 'SCHEDULE_TO_CLOSE' || timeoutType === 'SCHEDULE_TO_START') {
      if (timeoutType === 'SCHEDULE_TO_START' && activity.state !== 'scheduled') return
      if (timeoutType === 'SCHEDULE_TO_CLOSE' && activity.lastFailure) failure.cause = activity.lastFailure
      this.finishActivity(activity, 'ActivityTaskTimedOut', { failure, retryState: 'RETRY_STATE_TIMEOUT' })
      return
    }
    if (activity.state !== 'started') return
    this.failActivityAttempt(activity, failure, timeoutType)
  }

  pollActivityTaskQueue(r: Msg, call: grpc.ServerUnaryCall<Msg, Msg>): Msg | Promise<Msg> {
    const ns = this.namespace(r.namespace)
    const name: string | undefined = r.taskQueue?.name
    if (!name) throw invalidArgument('TaskQueue is not set on request.')
    const identity: string = r.identity ?? ''
    return this.poll(this.queue(ns.name, 'act', name), call, (ref) => this.takeActivity(ref, identity))
  }

  private heartbeat(activity: Activity, details: Msg | undefined): Msg {
    if (details) activity.heartbeatDetails = details
    activity.lastHeartbeatTime = this.now()
    // Re-arm: drop the old heartbeat timer by re-creating the attempt's timers that matter.
    if (activity.heartbeatMs > 0) this.armHeartbeatTimer(activity)
    return { cancelRequested: activity.cancelRequested, activityPaused: false, activityReset: false }
  }

  recordActivityTaskHeartbeat(r: Msg): Msg {
    return this.heartbeat(this.activityFromToken(r.taskToken), r.details)
  }

  recordActivityTaskHeartbeatById(r: Msg): Msg {
    return this.heartbeat(this.activityById(r), r.details)
  }

  private completeActivity(activity: Activity, r: Msg): Msg {
    activity.lastWorkerIdentity = r.identity || activity.lastWorkerIdentity
    this.finishActivity(activity, 'ActivityTaskCompleted', { result: r.result, identity: r.identity })
    return {}
  }

  respondActivityTaskCompleted(r: Msg): Msg {
    return this.completeActivity(this.activityFromToken(r.taskToken), r)
  }

  respondActivityTaskCompletedById(r: Msg): Msg {
    return this.completeActivity(this.activityById(r), r)
  }

  private failActivity(activity: Activity, r: Msg): Msg {
    if (r.lastHeartbeatDetails) activity.heartbeatDetails = r.lastHeartbeatDetails
    activity.lastWorkerIdentity = r.identity || activity.lastWorkerIdentity
    this.failActivityAttempt(activity, r.failure ?? { message: 'activity failed' })
    return {}
  }

  respondActivityTaskFailed(r: Msg): Msg {
    return this.failActivity(this.activityFromToken(r.taskToken), r)
  }

  respondActivityTaskFailedById(r: Msg): Msg {
    return this.failActivity(this.activityById(r), r)
  }

  private cancelActivity(activity: Activity, r: Msg): Msg {
    if (!activity.cancelRequested) {
      // Cancellation without a request is reported as a failure, like the real server.
      return this.failActivity(activity, { failure: { message: 'activity reported cancellation without a cancel request', canceledFailureInfo: { details: r.details } }, identity: r.identity })
    }
    this.finishActivity(activity, 'ActivityTaskCanceled', {
      details: r.details,
      latestCancelRequestedEventId: activity.latestCancelRequestedEventId,
      identity: r.identity,
    })
    return {}
  }

  respondActivityTaskCanceled(r: Msg): Msg {
    return this.cancelActivity(this.activityFromToken(r.taskToken), r)
  }

  respondActivityTaskCanceledById(r: Msg): Msg {
    return this.cancelActivity(this.activityById(r), r)
  }

  private requestCancelActivity(run: Run, a: Msg, wftCompletedId: number): boolean {
    const scheduledEventId: number = a.scheduledEventId
    const event = this.append(run, 'ActivityTaskCancelRequested', { scheduledEventId, workflowTaskCompletedEventId: wftCompletedId })
    const activity = run.activities.get(scheduledEventId)
    if (!activity) return false
    activity.cancelRequested = true
    activity.latestCancelRequestedEventId = event.eventId
    if (activity.state !== 'started') {
      this.releaseActivityTimers(activity, true)
      run.activities.delete(scheduledEventId)
      this.append(run, 'ActivityTaskCanceled', { scheduledEventId, latestCancelRequestedEventId: event.eventId, startedEventId: 0 })
      return true
    }
    return false
  }

  // ---------------------------------------------------------------- children and external workflows

  private initiateChild(run: Run, a: Msg, wftCompletedId: number, after: (() => void)[]): void {
    const namespace: string = a.namespace || run.ns.name
    const taskQueue: string = a.taskQueue?.name || run.taskQueue
    const parentClosePolicy: string =
      !a.parentClosePolicy || a.parentClosePolicy === 'PARENT_CLOSE_POLICY_UNSPECIFIED' ? 'PARENT_CLOSE_POLICY_TERMINATE' : a.parentClosePolicy
    const event = this.append(run, 'StartChildWorkflowExecutionInitiated', {
      namespace,
      namespaceId: this.namespaces.get(namespace)?.id,
      workflowId: a.workflowId,
      workflowType: a.workflowType,
      taskQueue: { name: taskQueue, kind: NORMAL },
      input: a.input,
      workflowExecutionTimeout: a.workflowExecutionTimeout,
      workflowRunTimeout: a.workflowRunTimeout,
      workflowTaskTimeout: a.workflowTaskTimeout,
      parentClosePolicy,
      control: a.control,
      workflowTaskCompletedEventId: wftCompletedId,
      workflowIdReusePolicy: a.workflowIdReusePolicy,
      retryPolicy: a.retryPolicy,
      cronSchedule: a.cronSchedule,
      header: a.header,
      memo: a.memo,
      searchAttributes: a.searchAttributes,
      priority: a.priority,
    })
    const initiatedEventId: number = event.eventId
    const child: Child = { initiatedEventId, namespace, workflowId: a.workflowId, workflowType: a.workflowType.name, parentClosePolicy }
    run.children.set(initiatedEventId, child)
    run.inFlight++
    after.push(() => {
      run.inFlight--
      if (!isOpen(run) || run.children.get(initiatedEventId) !== child) return
      let started: Run | undefined
      let failureCause: string | undefined
      try {
        const ns = this.namespace(namespace)
        const resolved = this.resolveIdPolicies(
          ns,
          { workflowId: a.workflowId, workflowIdReusePolicy: a.workflowIdReusePolicy, workflowIdConflictPolicy: 'WORKFLOW_ID_CONFLICT_POLICY_FAIL' },
          'WORKFLOW_ID_CONFLICT_POLICY_FAIL',
        )
        if (resolved) throw this.alreadyStarted(resolved.existing!, a.workflowId)
        started = this.startRun(ns, {
          workflowId: a.workflowId,
          workflowType: a.workflowType.name,
          taskQueue,
          input: a.input,
          executionTimeoutMs: toMs(a.workflowExecutionTimeout),
          runTimeoutMs: toMs(a.workflowRunTimeout),
          wftTimeoutMs: toMs(a.workflowTaskTimeout),
          retryPolicy: a.retryPolicy ? this.normalizeRetryPolicy(a.retryPolicy) : undefined,
          cronSchedule: a.cronSchedule || undefined,
          memo: a.memo,
          searchAttributes: a.searchAttributes,
          header: a.header,
          parent: { namespace: run.ns.name, workflowId: run.workflowId, runId: run.runId, initiatedEventId },
          parentNamespace: run.ns.name,
          root: run.root,
          priority: a.priority,
        })
      } catch (error) {
        if (error instanceof RpcError && error.code === grpc.status.ALREADY_EXISTS) failureCause = 'START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_WORKFLOW_ALREADY_EXISTS'
        else if (error instanceof RpcError && error.code === grpc.status.NOT_FOUND) failureCause = 'START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_NAMESPACE_NOT_FOUND'
        else throw error
      }
      if (!started) {
        run.children.delete(initiatedEventId)
        this.deliver(run, {
          kind: 'child',
          apply: () =>
            this.append(run, 'StartChildWorkflowExecutionFailed', {
              namespace,
              workflowId: a.workflowId,
              workflowType: a.workflowType,
              cause: failureCause,
              control: a.control,
              initiatedEventId,
              workflowTaskCompletedEventId: wftCompletedId,
            }),
        })
        return
      }
      child.runId = started.runId
      this.deliver(run, {
        kind: 'child',
        apply: () => {
          const ev = this.append(run, 'ChildWorkflowExecutionStarted', {
            namespace,
            initiatedEventId,
            workflowExecution: { workflowId: started.workflowId, runId: started.runId },
            workflowType: a.workflowType,
            header: a.header,
          })
          child.startedEventId = ev.eventId
        },
      })
    })
  }

  /** When a child run is continued or retried, the parent keeps pointing at the chain. */
  private moveChildLink(from: Run, to: Run): void {
    if (!from.parent) return
    const parent = this.namespaces.get(from.parent.namespace)?.runs.get(from.parent.runId)
    const child = parent?.children.get(from.parent.initiatedEventId)
    if (child) child.runId = to.runId
  }

  private notifyParent(run: Run, status: RunStatus, attributes: Msg): void {
    const ref = run.parent
    if (!ref) return
    const parent = this.namespaces.get(ref.namespace)?.runs.get(ref.runId)
    if (!parent || !isOpen(parent)) return
    const child = parent.children.get(ref.initiatedEventId)
    if (!child) return
    parent.children.delete(ref.initiatedEventId)
    const common = () => ({
      namespace: run.ns.name,
      workflowExecution: { workflowId: run.workflowId, runId: run.runId },
      workflowType: { name: run.workflowType },
      initiatedEventId: ref.initiatedEventId,
      startedEventId: child.startedEventId ?? 0,
    })
    const types: Record<string, [string, () => Msg]> = {
      COMPLETED: ['ChildWorkflowExecutionCompleted', () => ({ result: attributes.result })],
      FAILED: ['ChildWorkflowExecutionFailed', () => ({ failure: attributes.failure, retryState: attributes.retryState })],
      CANCELED: ['ChildWorkflowExecutionCanceled', () => ({ details: attributes.details })],
      TIMED_OUT: ['ChildWorkflowExecutionTimedOut', () => ({ retryState: attributes.retryState })],
      TERMINATED: ['ChildWorkflowExecutionTerminated', () => ({})],
    }
    const entry = types[status]
    if (!entry) return
    this.deliver(parent, { kind: 'child', apply: () => this.append(parent, entry[0], { ...entry[1](), ...common() }) })
  }

  private applyParentClosePolicies(run: Run): void {
    for (const child of run.children.values()) {
      if (!child.runId) continue
      const ns = this.namespaces.get(child.namespace)
      const target = ns ? this.latestRun(ns, child.workflowId) : undefined
      if (!target || !isOpen(target) || target.parent?.runId !== run.runId) continue
      if (child.parentClosePolicy === 'PARENT_CLOSE_POLICY_TERMINATE') {
        target.parent = undefined
        this.terminateRun(target, 'by parent close policy', undefined, 'temporal-test-server')
      } else if (child.parentClosePolicy === 'PARENT_CLOSE_POLICY_REQUEST_CANCEL') {
        this.requestCancel(target, { cause: 'by parent close policy', identity: 'temporal-test-server' })
      }
    }
    run.children.clear()
  }

  private initiateSignalExternal(run: Run, a: Msg, wftCompletedId: number, after: (() => void)[]): void {
    const namespace: string = a.namespace || run.ns.name
    const event = this.append(run, 'SignalExternalWorkflowExecutionInitiated', {
      namespace,
      workflowExecution: a.execution,
      signalName: a.signalName,
      input: a.input,
      control: a.control,
      childWorkflowOnly: a.childWorkflowOnly,
      header: a.header,
      workflowTaskCompletedEventId: wftCompletedId,
    })
    const initiatedEventId: number = event.eventId
    run.inFlight++
    after.push(() => {
      run.inFlight--
      const target = this.externalTarget(namespace, a.execution)
      if (target && (!a.childWorkflowOnly || target.parent?.runId === run.runId)) {
        this.signal(target, {
          signalName: a.signalName,
          input: a.input,
          header: a.header,
          identity: `workflow:${run.workflowId}`,
          externalWorkflowExecution: { workflowId: run.workflowId, runId: run.runId },
        })
        this.deliver(run, {
          kind: 'external',
          apply: () =>
            this.append(run, 'ExternalWorkflowExecutionSignaled', {
              initiatedEventId,
              namespace,
              workflowExecution: { workflowId: target.workflowId, runId: target.runId },
              control: a.control,
            }),
        })
      } else {
        this.deliver(run, {
          kind: 'external',
          apply: () =>
            this.append(run, 'SignalExternalWorkflowExecutionFailed', {
              cause: 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND',
              workflowTaskCompletedEventId: wftCompletedId,
              namespace,
              workflowExecution: a.execution,
              initiatedEventId,
              control: a.control,
            }),
        })
      }
    })
  }

  private initiateCancelExternal(run: Run, a: Msg, wftCompletedId: number, after: (() => void)[]): void {
    const namespace: string = a.namespace || run.ns.name
    const execution: Msg = { workflowId: a.workflowId, runId: a.runId || undefined }
    const event = this.append(run, 'RequestCancelExternalWorkflowExecutionInitiated', {
      namespace,
      workflowExecution: execution,
      control: a.control,
      childWorkflowOnly: a.childWorkflowOnly,
      reason: a.reason,
      workflowTaskCompletedEventId: wftCompletedId,
    })
    const initiatedEventId: number = event.eventId
    run.inFlight++
    after.push(() => {
      run.inFlight--
      const target = this.externalTarget(namespace, execution)
      if (target && (!a.childWorkflowOnly || target.parent?.runId === run.runId)) {
        this.requestCancel(target, {
          cause: a.reason || undefined,
          externalInitiatedEventId: initiatedEventId,
          externalWorkflowExecution: { workflowId: run.workflowId, runId: run.runId },
          identity: `workflow:${run.workflowId}`,
        })
        this.deliver(run, {
          kind: 'external',
          apply: () =>
            this.append(run, 'ExternalWorkflowExecutionCancelRequested', {
              initiatedEventId,
              namespace,
              workflowExecution: { workflowId: target.workflowId, runId: target.runId },
            }),
        })
      } else {
        this.deliver(run, {
          kind: 'external',
          apply: () =>
            this.append(run, 'RequestCancelExternalWorkflowExecutionFailed', {
              cause: 'CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND',
              workflowTaskCompletedEventId: wftCompletedId,
              namespace,
              workflowExecution: execution,
              initiatedEventId,
              control: a.control,
            }),
        })
      }
    })
  }

  private externalTarget(namespace: string, execution: Msg | undefined): Run | undefined {
    const ns = this.namespaces.get(namespace)
    if (!ns || !execution?.workflowId) return undefined
    const run = execution.runId ? ns.runs.get(execution.runId) : this.latestRun(ns, execution.workflowId)
    return run && run.workflowId === execution.workflowId && isOpen(run) ? run : undefined
  }

  // ---------------------------------------------------------------- updates

  private applyUpdateMessage(run: Run, message: Msg): void {
    const body: Msg | undefined = message.body
    const typeName = String(body?.type_url ?? '').replace(/^type.googleapis.com\//, '')
    if (!body?.value || !typeName.startsWith('temporal.api.update.v1.')) return
    const type = lookupType(typeName)
    const decoded = type.toObject(type.decode(body.value), { longs: Number, enums: String, defaults: false, bytes: Buffer }) as Msg
    const update = run.updates.get(message.protocolInstanceId)
    switch (typeName) {
      case 'temporal.api.update.v1.Acceptance': {
        const event = this.append(run, 'WorkflowExecutionUpdateAccepted', {
          protocolInstanceId: message.protocolInstanceId,
          acceptedRequestMessageId: decoded.acceptedRequestMessageId,
          acceptedRequestSequencingEventId: decoded.acceptedRequestSequencingEventId,
          acceptedRequest: decoded.acceptedRequest,
        })
        if (update) {
          update.state = 'accepted'
          update.acceptedEventId = event.eventId
          this.wakeUpdate(update)
        }
        return
      }
      case 'temporal.api.update.v1.Response': {
        const acceptedEventId = update?.acceptedEventId ?? 0
        this.append(run, 'WorkflowExecutionUpdateCompleted', { meta: decoded.meta, acceptedEventId, outcome: decoded.outcome })
        if (update) {
          update.state = 'completed'
          update.outcome = decoded.outcome
          this.wakeUpdate(update)
        }
        return
      }
      case 'temporal.api.update.v1.Rejection':
        // A rejected update leaves no trace in history.
        if (update) {
          update.state = 'completed'
          update.outcome = { failure: decoded.failure }
          this.wakeUpdate(update)
        }
        return
    }
  }

  private wakeUpdate(update: Update): void {
    const waiters = [...update.waiters]
    update.waiters.clear()
    for (const wake of waiters) wake()
  }

  private updateStage(update: Update): number {
    return update.state === 'completed' ? 3 : update.state === 'accepted' ? 2 : 1
  }

  private updateResponse(run: Run, update: Update): Msg {
    return {
      updateRef: { workflowExecution: { workflowId: run.workflowId, runId: run.runId }, updateId: update.id },
      outcome: update.state === 'completed' ? update.outcome : undefined,
      stage: ['', 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED', 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED', 'UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED'][
        this.updateStage(update)
      ],
    }
  }

  /** Answers once the update reaches `stage` (or the long poll ends, with the stage reached so far). */
  private awaitUpdate(run: Run, update: Update, waitPolicy: Msg | undefined, call: grpc.ServerUnaryCall<Msg, Msg>): Msg | Promise<Msg> {
    const wanted = { UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED: 1, UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED: 2, UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED: 3 }[
      String(waitPolicy?.lifecycleStage ?? '')
    ] ?? 2
    const ready = () => this.updateStage(update) >= wanted
    const closedError = () => notFound('workflow execution already completed')
    if (ready()) return this.updateResponse(run, update)
    if (!isOpen(run)) throw closedError()
    return new Promise<Msg>((resolve, reject) => {
      let done = false
      const finish = (fn: () => void) => {
        if (done) return
        done = true
        clearTimeout(timer)
        update.waiters.delete(wake)
        fn()
      }
      const wake = () => {
        if (ready()) finish(() => resolve(this.updateResponse(run, update)))
        else if (!isOpen(run)) finish(() => reject(closedError()))
        else update.waiters.add(wake)
      }
      const timer = setTimeout(() => finish(() => resolve(this.updateResponse(run, update))), this.pollTimeout(call))
      call.on('cancelled', () => finish(() => resolve({})))
      update.waiters.add(wake)
    })
  }

  updateWorkflowExecution(r: Msg, call: grpc.ServerUnaryCall<Msg, Msg>): Msg | Promise<Msg> {
    const ns = this.namespace(r.namespace)
    const run = this.findRun(ns, r.workflowExecution, r.firstExecutionRunId)
    const updateId: string | undefined = r.request?.meta?.updateId
    if (!updateId) throw invalidArgument('Update ID is not set on request.')
    if (!r.request?.input?.name) throw invalidArgument('Update name is not set on request.')
    let update = run.updates.get(updateId)
    if (!update) {
      if (!isOpen(run)) throw notFound('workflow execution already completed')
      update = { id: updateId, request: r.request, state: 'requested', waiters: new Set() }
      run.updates.set(updateId, update)
      if (!run.awaitingFirstTask) this.scheduleWft(run)
    }
    return this.awaitUpdate(run, update, r.waitPolicy, call)
  }

  pollWorkflowExecutionUpdate(r: Msg, call: grpc.ServerUnaryCall<Msg, Msg>): Msg | Promise<Msg> {
    const ns = this.namespace(r.namespace)
    const run = this.findRun(ns, r.updateRef?.workflowExecution)
    const update = run.updates.get(r.updateRef?.updateId)
    if (!update) throw notFound(`update ${r.updateRef?.updateId} not found`)
    return this.awaitUpdate(run, update, r.waitPolicy, call)
  }

  // ---------------------------------------------------------------- queries

  queryWorkflow(r: Msg, call: grpc.ServerUnaryCall<Msg, Msg>): Msg | Promise<Msg> {
    const ns = this.namespace(r.namespace)
    const run = this.findRun(ns, r.execution)
    const condition: string | undefined = r.queryRejectCondition
    if (!isOpen(run)) {
      if (condition === 'QUERY_REJECT_CONDITION_NOT_OPEN' || (condition === 'QUERY_REJECT_CONDITION_NOT_COMPLETED_CLEANLY' && run.status !== 'COMPLETED')) {
        return { queryRejected: { status: `WORKFLOW_EXECUTION_STATUS_${run.status}` } }
      }
    }
    if (!r.query?.queryType) throw invalidArgument('QueryType is not set on request.')
    return new Promise<Msg>((resolve, reject) => {
      const query: Query = {
        id: randomUUID(),
        run,
        query: r.query,
        done: false,
        resolve,
        reject,
      }
      this.outstandingQueries.add(query)
      const finish = () => {
        query.done = true
        this.outstandingQueries.delete(query)
        this.clock.poke()
      }
      query.resolve = (response) => {
        finish()
        resolve(response)
      }
      query.reject = (error) => {
        finish()
        reject(error)
      }
      call.on('cancelled', () => query.reject(new RpcError(grpc.status.CANCELLED, 'query cancelled')))
      const deadline = call.getDeadline()
      const deadlineMs = deadline instanceof Date ? deadline.getTime() : typeof deadline === 'number' ? deadline : Infinity
      if (Number.isFinite(deadlineMs)) {
        setTimeout(() => {
          if (!query.done) query.reject(new RpcError(grpc.status.DEADLINE_EXCEEDED, 'query timed out'))
        }, Math.max(0, deadlineMs - Date.now())).unref()
      }
      if (!isOpen(run) || !run.wft) this.dispatchDirectQuery(query)
      else if (run.wft.state === 'scheduled') run.wft.queries.push(query)
      else run.queriesAfterWft.push(query)
    })
  }

  private dispatchDirectQuery(query: Query): void {
    if (query.done) return
    this.offer(this.queue(query.run.ns.name, 'wf', query.run.taskQueue), { kind: 'query', run: query.run, query })
  }

  private answerQueries(wft: Wft, results: Msg | undefined): void {
    if (!results) return
    for (const [id, result] of Object.entries<Msg>(results)) {
      const query = wft.queries.find((q) => q.id === id)
      if (!query || query.done) continue
      this.resolveQuery(query, {
        completedType: result.resultType === 'QUERY_RESULT_TYPE_FAILED' ? 'QUERY_RESULT_TYPE_FAILED' : 'QUERY_RESULT_TYPE_ANSWERED',
        queryResult: result.answer,
        errorMessage: result.errorMessage,
      })
    }
  }

  private resolveQuery(query: Query, r: Msg): void {
    if (r.completedType === 'QUERY_RESULT_TYPE_FAILED') {
      query.reject(new RpcError(grpc.status.INVALID_ARGUMENT, r.errorMessage || r.failure?.message || 'query failed'))
    } else {
      query.resolve({ queryResult: r.queryResult ?? { payloads: [] } })
    }
  }

  private completeQuery(t: Msg, r: Msg): void {
    const run = this.namespaces.get(t.n)?.runs.get(t.r)
    const query = [...this.outstandingQueries].find((q) => q.id === t.q && q.run === run)
    if (!query) throw notFound('Query task not found.')
    this.resolveQuery(query, r)
  }

  respondQueryTaskCompleted(r: Msg): Msg {
    const t = decodeToken(r.taskToken)
    if (!t || t.k !== 'q') throw notFound('Query task not found.')
    this.completeQuery(t, r)
    return {}
  }

  // ---------------------------------------------------------------- reading state

  getWorkflowExecutionHistory(r: Msg, call: grpc.ServerUnaryCall<Msg, Msg>): Msg | Promise<Msg> {
    const ns = this.namespace(r.namespace)
    const run = this.findRun(ns, r.execution)
    const closeOnly = r.historyEventFilterType === 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT'
    const token = r.nextPageToken && r.nextPageToken.length > 0 ? Number(Buffer.from(r.nextPageToken).toString('utf8')) || 1 : 1
    const pageSize: number = r.maximumPageSize > 0 ? r.maximumPageSize : 1000
    const answer = (): Msg | null => {
      if (closeOnly) {
        if (run.closeEvent) return { history: { events: [run.closeEvent] }, archived: false }
        return null
      }
      const events = run.history.slice(token - 1, token - 1 + pageSize)
      if (events.length === 0) return null
      const last = events[events.length - 1]!.eventId as number
      const more = last < run.history.length || (r.waitNewEvent && isOpen(run))
      return { history: { events }, nextPageToken: more ? Buffer.from(String(last + 1)) : undefined, archived: false }
    }
    const now = answer()
    if (now) return now
    if (!r.waitNewEvent || !isOpen(run)) return { history: { events: [] }, archived: false }
    return new Promise<Msg>((resolve) => {
      let done = false
      const finish = (value: Msg) => {
        if (done) return
        done = true
        clearTimeout(timer)
        run.waiters.delete(wake)
        this.parkedHistoryPolls.delete(stop)
        resolve(value)
      }
      const empty = () => ({ history: { events: [] }, nextPageToken: Buffer.from(String(closeOnly ? 1 : token)), archived: false })
      const stop = () => finish(empty())
      const wake = () => {
        const value = answer()
        if (value) finish(value)
        else if (!isOpen(run)) finish({ history: { events: [] }, archived: false })
        else run.waiters.add(wake)
      }
      const timer = setTimeout(stop, this.pollTimeout(call))
      run.waiters.add(wake)
      this.parkedHistoryPolls.add(stop)
      call.on('cancelled', stop)
    })
  }

  describeWorkflowExecution(r: Msg): Msg {
    const ns = this.namespace(r.namespace)
    const run = this.findRun(ns, r.execution)
    const started = run.history[0]!.workflowExecutionStartedEventAttributes as Msg
    const pendingActivities = [...run.activities.values()].map((a) => ({
      activityId: a.activityId,
      activityType: { name: a.activityType },
      state: a.cancelRequested ? 'PENDING_ACTIVITY_STATE_CANCEL_REQUESTED' : a.state === 'started' ? 'PENDING_ACTIVITY_STATE_STARTED' : 'PENDING_ACTIVITY_STATE_SCHEDULED',
      heartbeatDetails: a.heartbeatDetails,
      lastHeartbeatTime: a.lastHeartbeatTime ? ts(a.lastHeartbeatTime) : undefined,
      lastStartedTime: a.lastStartedTime ? ts(a.lastStartedTime) : undefined,
      attempt: a.attempt,
      maximumAttempts: a.retryPolicy.maximumAttempts ?? 0,
      scheduledTime: ts(a.currentAttemptScheduledTime),
      expirationTime: a.expiration ? ts(a.expiration) : undefined,
      lastFailure: a.lastFailure,
      lastWorkerIdentity: a.lastWorkerIdentity,
      nextAttemptScheduleTime: a.nextAttemptScheduleTime ? ts(a.nextAttemptScheduleTime) : undefined,
      activityOptions: {
        taskQueue: { name: a.taskQueue, kind: NORMAL },
        scheduleToCloseTimeout: dur(a.scheduleToCloseMs),
        scheduleToStartTimeout: dur(a.scheduleToStartMs),
        startToCloseTimeout: dur(a.startToCloseMs),
        heartbeatTimeout: dur(a.heartbeatMs),
        retryPolicy: a.retryPolicy,
      },
    }))
    const pendingChildren = [...run.children.values()].map((c) => ({
      workflowId: c.workflowId,
      runId: c.runId,
      workflowTypeName: c.workflowType,
      initiatedId: c.initiatedEventId,
      parentClosePolicy: c.parentClosePolicy,
    }))
    const wft = run.wft
    return {
      executionConfig: {
        taskQueue: { name: run.taskQueue, kind: NORMAL },
        workflowExecutionTimeout: dur(run.executionTimeoutMs),
        workflowRunTimeout: dur(run.runTimeoutMs),
        defaultWorkflowTaskTimeout: dur(run.wftTimeoutMs),
      },
      workflowExecutionInfo: this.executionInfo(run, started),
      pendingActivities,
      pendingChildren,
      pendingWorkflowTask: wft
        ? {
            state: wft.state === 'started' ? 'PENDING_WORKFLOW_TASK_STATE_STARTED' : 'PENDING_WORKFLOW_TASK_STATE_SCHEDULED',
            scheduledTime: ts(wft.scheduledTime),
            originalScheduledTime: ts(wft.scheduledTime),
            startedTime: wft.startedTime ? ts(wft.startedTime) : undefined,
            attempt: wft.attempt,
          }
        : undefined,
    }
  }

  executionInfo(run: Run, started: Msg = run.history[0]!.workflowExecutionStartedEventAttributes as Msg): Msg {
    return {
      execution: { workflowId: run.workflowId, runId: run.runId },
      type: { name: run.workflowType },
      startTime: ts(run.startTime),
      closeTime: run.closeTime !== undefined ? ts(run.closeTime) : undefined,
      status: `WORKFLOW_EXECUTION_STATUS_${run.status}`,
      historyLength: run.history.length,
      parentNamespaceId: started.parentWorkflowNamespaceId,
      parentExecution: started.parentWorkflowExecution,
      executionTime: ts(run.executionTime),
      memo: { fields: run.memo },
      searchAttributes: { indexedFields: run.searchAttributes },
      taskQueue: run.taskQueue,
      stateTransitionCount: run.stateTransitions,
      historySizeBytes: run.historyBytes,
      rootExecution: run.root,
      firstRunId: run.firstRunId,
      executionDuration: run.closeTime !== undefined ? dur(run.closeTime - run.executionTime) : undefined,
    }
  }

  // ---------------------------------------------------------------- workers, namespaces, system

  shutdownWorker(r: Msg): Msg {
    const ns = this.namespace(r.namespace)
    if (r.stickyTaskQueue) {
      const queue = this.queues.get(`${ns.name}\u0000wf\u0000${r.stickyTaskQueue}`)
      if (queue) {
        for (const poller of queue.pollers) this.finishPoller(poller, {})
        this.queues.delete(`${ns.name}\u0000wf\u0000${r.stickyTaskQueue}`)
      }
    }
    return {}
  }

  getSystemInfo(): Msg {
    return {
      serverVersion: SERVER_VERSION,
      capabilities: {
        signalAndQueryHeader: true,
        internalErrorDifferentiation: true,
        activityFailureIncludeHeartbeat: true,
        supportsSchedules: false,
        encodedFailureAttributes: true,
        buildIdBasedVersioning: false,
        upsertMemo: true,
        eagerWorkflowStart: false,
        sdkMetadata: true,
        countGroupByExecutionStatus: true,
        nexus: false,
      },
    }
  }

  describeNamespace(r: Msg): Msg {
    const ns = r.id ? [...this.namespaces.values()].find((n) => n.id === r.id) : this.namespaces.get(r.namespace || 'default')
    if (!ns) {
      throw notFound(`Namespace ${r.namespace || r.id} is not found.`, [
        { typeName: 'temporal.api.errordetails.v1.NamespaceNotFoundFailure', value: { namespace: r.namespace } },
      ])
    }
    return this.namespaceDescription(ns)
  }

  namespaceDescription(ns: Namespace): Msg {
    return {
      namespaceInfo: {
        name: ns.name,
        id: ns.id,
        state: 'NAMESPACE_STATE_REGISTERED',
        description: 'in-memory test namespace',
        capabilities: { eagerWorkflowStart: false, syncUpdate: true, asyncUpdate: true },
      },
      config: {
        workflowExecutionRetentionTtl: dur(86_400_000),
        historyArchivalState: 'ARCHIVAL_STATE_DISABLED',
        visibilityArchivalState: 'ARCHIVAL_STATE_DISABLED',
      },
      isGlobalNamespace: false,
    }
  }

  /** Builds the WorkflowService handlers. */
  workflowServiceHandlers(): Record<string, Handler> {
    const h: Record<string, Handler> = {
      GetSystemInfo: () => this.getSystemInfo(),
      DescribeNamespace: (r) => this.describeNamespace(r),
      ListNamespaces: () => ({ namespaces: [...this.namespaces.values()].map((ns) => this.namespaceDescription(ns)) }),
      RegisterNamespace: (r) => {
        if (!r.namespace) throw invalidArgument('Namespace is not set on request.')
        if (this.namespaces.has(r.namespace)) throw new RpcError(grpc.status.ALREADY_EXISTS, `Namespace ${r.namespace} already exists.`)
        this.addNamespace(r.namespace)
        return {}
      },
      StartWorkflowExecution: (r) => this.startWorkflowExecution(r),
      SignalWithStartWorkflowExecution: (r) => this.signalWithStartWorkflowExecution(r),
      SignalWorkflowExecution: (r) => this.signalWorkflowExecution(r),
      RequestCancelWorkflowExecution: (r) => this.requestCancelWorkflowExecution(r),
      TerminateWorkflowExecution: (r) => this.terminateWorkflowExecution(r),
      QueryWorkflow: (r, call) => this.queryWorkflow(r, call),
      UpdateWorkflowExecution: (r, call) => this.updateWorkflowExecution(r, call),
      PollWorkflowExecutionUpdate: (r, call) => this.pollWorkflowExecutionUpdate(r, call),
      RespondQueryTaskCompleted: (r) => this.respondQueryTaskCompleted(r),
      GetWorkflowExecutionHistory: (r, call) => this.getWorkflowExecutionHistory(r, call),
      GetWorkflowExecutionHistoryReverse: (r) => {
        const ns = this.namespace(r.namespace)
        const run = this.findRun(ns, r.execution)
        return { history: { events: [...run.history].reverse() } }
      },
      DescribeWorkflowExecution: (r) => this.describeWorkflowExecution(r),
      PollWorkflowTaskQueue: (r, call) => this.pollWorkflowTaskQueue(r, call),
      RespondWorkflowTaskCompleted: (r) => this.respondWorkflowTaskCompleted(r),
      RespondWorkflowTaskFailed: (r) => this.respondWorkflowTaskFailed(r),
      PollActivityTaskQueue: (r, call) => this.pollActivityTaskQueue(r, call),
      RecordActivityTaskHeartbeat: (r) => this.recordActivityTaskHeartbeat(r),
      RecordActivityTaskHeartbeatById: (r) => this.recordActivityTaskHeartbeatById(r),
      RespondActivityTaskCompleted: (r) => this.respondActivityTaskCompleted(r),
      RespondActivityTaskCompletedById: (r) => this.respondActivityTaskCompletedById(r),
      RespondActivityTaskFailed: (r) => this.respondActivityTaskFailed(r),
      RespondActivityTaskFailedById: (r) => this.respondActivityTaskFailedById(r),
      RespondActivityTaskCanceled: (r) => this.respondActivityTaskCanceled(r),
      RespondActivityTaskCanceledById: (r) => this.respondActivityTaskCanceledById(r),
      ShutdownWorker: (r) => this.shutdownWorker(r),
      ResetStickyTaskQueue: () => ({}),
      RecordWorkerHeartbeat: () => ({}),
      GetClusterInfo: () => ({ serverVersion: SERVER_VERSION, clusterName: 'active', clusterId: 'test-server', historyShardCount: 1 }),
      DescribeTaskQueue: () => ({ pollers: [] }),
      GetSearchAttributes: () => ({ keys: this.searchAttributes.all() }),
      ListWorkflowExecutions: (r) => this.visibility.list(this.namespace(r.namespace), r),
      ScanWorkflowExecutions: (r) => this.visibility.list(this.namespace(r.namespace), r),
      CountWorkflowExecutions: (r) => this.visibility.count(this.namespace(r.namespace), r),
      ListOpenWorkflowExecutions: (r) => this.visibility.listOpenClosed(this.namespace(r.namespace), r, true),
      ListClosedWorkflowExecutions: (r) => this.visibility.listOpenClosed(this.namespace(r.namespace), r, false),
    }
    return h
  }
}

function isEmptyPayload(payload: Msg): boolean {
  return !payload.data || payload.data.length === 0 || (payload.metadata?.encoding && Buffer.from(payload.metadata.encoding).toString() === 'binary/null')
}

function timeoutTypeShort(type: string): string {
  return { TIMEOUT_TYPE_START_TO_CLOSE: 'StartToClose', TIMEOUT_TYPE_SCHEDULE_TO_START: 'ScheduleToStart', TIMEOUT_TYPE_SCHEDULE_TO_CLOSE: 'ScheduleToClose', TIMEOUT_TYPE_HEARTBEAT: 'Heartbeat' }[type] ?? type
}
