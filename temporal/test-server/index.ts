import * as grpc from '@grpc/grpc-js'
import type { TimeSkippingMode } from './clock.ts'
import { buildService, invalidArgument, RpcError, type Handler, type Msg } from './grpc.ts'
import { Engine } from './server.ts'
import { toMs, ts } from './util.ts'

export type { TimeSkippingMode } from './clock.ts'

export interface StartTestServerOptions {
  /** 0 or absent picks a free port. */
  port?: number
  /** Defaults to 127.0.0.1. */
  host?: string
  /** Namespaces to create; defaults to ['default']. */
  namespaces?: string[]
  /** 'locked' (the test-server default), 'unlocked' (skips whenever idle) or 'off' (real time, dev mode). */
  timeSkipping?: TimeSkippingMode
  /** Virtual time at start. */
  initialTime?: Date | number
  /** Whether TestService is served (the dev-server mode leaves it out). Defaults to true. */
  testService?: boolean
  /** How long long polls are held, in real milliseconds. */
  longPollMs?: number
  /** Custom search attributes to register, name → type (Keyword, Text, Int, Double, Bool, Datetime, KeywordList). */
  searchAttributes?: Record<string, string>
  /** Logs every RPC and appended event to stderr (also enabled by TSRV_LOG=1). */
  log?: boolean
}

export interface TestServer {
  /** host:port to give to Connection.connect / NativeConnection.connect. */
  address: string
  port: number
  close(): Promise<void>
  clock: {
    now(): Date
    /** Moves virtual time forward, ignoring time-skipping locks. */
    skip(ms: number): void
    skipTo(date: Date | number): void
  }
  debug: {
    /** Every run's history, keyed by `workflowId/runId`. */
    histories(): Record<string, Msg[]>
    /** A readable summary of every run. */
    dump(): string
  }
}

/** Starts the in-memory Temporal server in this process. */
export async function startTestServer(options: StartTestServerOptions = {}): Promise<TestServer> {
  const log = options.log ?? process.env.TSRV_LOG === '1'
  const engine = new Engine({
    namespaces: options.namespaces,
    timeSkipping: options.timeSkipping ?? 'locked',
    initialTime: options.initialTime === undefined ? undefined : new Date(options.initialTime).getTime(),
    longPollMs: options.longPollMs,
    log,
    searchAttributes: options.searchAttributes,
  })
  const serviceOptions = { log, onInternalError: (method: string, error: unknown) => engine.internalError(method, error) }
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 128 * 1024 * 1024,
    'grpc.max_send_message_length': 128 * 1024 * 1024,
  })
  const add = (name: string, handlers: Record<string, Handler>) => {
    const { definition, implementation } = buildService(name, handlers, serviceOptions)
    server.addService(definition, implementation)
  }
  add('temporal.api.workflowservice.v1.WorkflowService', engine.workflowServiceHandlers())
  if (options.testService ?? true) add('temporal.api.testservice.v1.TestService', testServiceHandlers(engine))
  add('temporal.api.operatorservice.v1.OperatorService', operatorServiceHandlers(engine))
  add('grpc.health.v1.Health', { Check: () => ({ status: 'SERVING' }) })

  const host = options.host ?? '127.0.0.1'
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    )
  })
  const address = `${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`
  let closed: Promise<void> | undefined
  return {
    address,
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        engine.close()
        server.tryShutdown(() => resolve())
        // Parked long polls end at once; anything left after a moment is cut off.
        setTimeout(() => {
          server.forceShutdown()
          resolve()
        }, 2000).unref()
      })
      return closed
    },
    clock: {
      now: () => new Date(engine.now()),
      skip: (ms) => engine.clock.skip(ms),
      skipTo: (date) => engine.clock.skipTo(new Date(date).getTime()),
    },
    debug: {
      histories: () => Object.fromEntries(engine.allRuns().map((run) => [`${run.workflowId}/${run.runId}`, run.history])),
      dump: () =>
        engine
          .allRuns()
          .map((run) => {
            const lines = run.history.map((e) => `  ${e.eventId} ${String(e.eventType).replace('EVENT_TYPE_', '')}`)
            return `${run.workflowId}/${run.runId} ${run.status} (${run.workflowType} on ${run.taskQueue})\n${lines.join('\n')}`
          })
          .join('\n'),
    },
  }
}

function testServiceHandlers(engine: Engine): Record<string, Handler> {
  const clock = engine.clock
  const sleepUntil = (at: number) => new Promise<Msg>((resolve) => clock.at(at, () => resolve({})))
  return {
    LockTimeSkipping: () => {
      clock.lock()
      return {}
    },
    UnlockTimeSkipping: () => {
      if (!clock.unlock()) throw new RpcError(grpc.status.FAILED_PRECONDITION, 'Time skipping is not locked (unlock called more often than lock)')
      return {}
    },
    GetCurrentTime: () => ({ time: ts(engine.now()) }),
    Sleep: (r) => sleepUntil(engine.now() + toMs(r.duration)),
    SleepUntil: (r) => {
      if (!r.timestamp) throw invalidArgument('timestamp is required')
      return sleepUntil(toMs(r.timestamp))
    },
    UnlockTimeSkippingWithSleep: (r) =>
      new Promise<Msg>((resolve) => {
        const unlocked = clock.unlock()
        clock.at(engine.now() + toMs(r.duration), () => {
          if (unlocked) clock.lock()
          resolve({})
        })
      }),
  }
}

function operatorServiceHandlers(engine: Engine): Record<string, Handler> {
  return {
    AddSearchAttributes: (r) => {
      for (const [name, type] of Object.entries<string>(r.searchAttributes ?? {})) engine.searchAttributes.add(name, type)
      return {}
    },
    RemoveSearchAttributes: (r) => {
      for (const name of r.searchAttributes ?? []) engine.searchAttributes.remove(name)
      return {}
    },
    ListSearchAttributes: () => ({
      customAttributes: engine.searchAttributes.customAttributes(),
      systemAttributes: engine.searchAttributes.systemAttributes(),
      storageSchema: {},
    }),
  }
}
