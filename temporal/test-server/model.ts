import type { ClockTimer } from './clock.ts'
import type { Msg } from './grpc.ts'

export type RunStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED' | 'TERMINATED' | 'CONTINUED_AS_NEW' | 'TIMED_OUT'

export interface Namespace {
  name: string
  id: string
  /** workflowId → every run with that id, oldest first. */
  executions: Map<string, Run[]>
  runs: Map<string, Run>
}

export interface ParentRef {
  namespace: string
  workflowId: string
  runId: string
  initiatedEventId: number
}

export interface Wft {
  state: 'scheduled' | 'started'
  gen: number
  attempt: number
  scheduledEventId: number
  startedEventId: number
  scheduledTime: number
  startedTime: number
  timer?: ClockTimer
  /** Consistent queries delivered with this task. */
  queries: Query[]
}

/** An external event waiting for the started workflow task to finish before it is written to history. */
export interface Buffered {
  kind: string
  key?: string
  apply: () => void
}

export interface Activity {
  run: Run
  scheduledEventId: number
  activityId: string
  activityType: string
  taskQueue: string
  input?: Msg
  header?: Msg
  priority?: Msg
  scheduleToCloseMs: number
  scheduleToStartMs: number
  startToCloseMs: number
  heartbeatMs: number
  retryPolicy: Msg
  attempt: number
  state: 'scheduled' | 'started' | 'backoff'
  cancelRequested: boolean
  latestCancelRequestedEventId: number
  heartbeatDetails?: Msg
  lastHeartbeatTime?: number
  lastStartedTime?: number
  scheduledTime: number
  currentAttemptScheduledTime: number
  /** Absolute schedule-to-close deadline; 0 when unlimited. */
  expiration: number
  lastFailure?: Msg
  lastWorkerIdentity?: string
  startedIdentity?: string
  startedRequestId?: string
  nextAttemptScheduleTime?: number
  /** Timers of the current attempt (start-to-close, heartbeat, schedule-to-start). */
  attemptTimers: ClockTimer[]
  scheduleToCloseTimer?: ClockTimer
}

export interface Child {
  initiatedEventId: number
  namespace: string
  workflowId: string
  workflowType: string
  runId?: string
  startedEventId?: number
  parentClosePolicy: string
}

export interface Query {
  id: string
  run: Run
  query: Msg
  done: boolean
  resolve: (response: Msg) => void
  reject: (error: Error) => void
}

/** A workflow update (the update protocol's request → acceptance/rejection → response). */
export interface Update {
  id: string
  request: Msg
  /** requested: waiting for delivery; sent: delivered in the workflow task `sentGen`. */
  state: 'requested' | 'sent' | 'accepted' | 'completed'
  sentGen?: number
  acceptedEventId?: number
  outcome?: Msg
  waiters: Set<() => void>
}

export interface Run {
  ns: Namespace
  workflowId: string
  runId: string
  firstRunId: string
  workflowType: string
  taskQueue: string
  status: RunStatus
  history: Msg[]
  historyBytes: number
  startTime: number
  executionTime: number
  closeTime?: number
  closeEvent?: Msg
  wftTimeoutMs: number
  runTimeoutMs: number
  executionTimeoutMs: number
  executionExpiration: number
  retryPolicy?: Msg
  cronSchedule?: string
  attempt: number
  memo: Msg
  searchAttributes: Msg
  startRequestId?: string
  wft: Wft | null
  wftGen: number
  needsWft: boolean
  buffer: Buffered[]
  lastCompletedStartedId: number
  activities: Map<number, Activity>
  timers: Map<string, { startedEventId: number; timer: ClockTimer }>
  children: Map<number, Child>
  runTimers: ClockTimer[]
  cancelRequested: boolean
  signalRequestIds: Set<string>
  waiters: Set<() => void>
  /** Queries that arrived while a workflow task was started; sent once it ends. */
  queriesAfterWft: Query[]
  parent?: ParentRef
  root: { workflowId: string; runId: string }
  /** Asynchronous server-side steps in progress (child start, result delivery, external signal/cancel). */
  inFlight: number
  newExecutionRunId?: string
  stateTransitions: number
  updates: Map<string, Update>
  /** True while the first workflow task waits out a start delay or retry/continue-as-new backoff. */
  awaitingFirstTask: boolean
}

export const isOpen = (run: Run): boolean => run.status === 'RUNNING'
