import { Client, Connection } from '@temporalio/client'

/** Thrown when a page needs Temporal and none is configured or reachable; pages show a clear message. */
export class TemporalUnavailableError extends Error {
  readonly code = 'TEMPORAL_UNAVAILABLE'
  constructor(
    readonly reason: 'not_configured' | 'unreachable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export interface TemporalProvider {
  /** The shared client, connected on first use. Throws `TemporalUnavailableError`. */
  getClient(): Promise<Client>
  namespace: string
  /** Base URL of the Temporal UI, for links; undefined when not configured. */
  uiUrl: string | undefined
  close(): Promise<void>
}

export interface TemporalProviderOptions {
  address: string | undefined
  namespace: string
  uiUrl?: string
  connectTimeoutMs?: number
  /** After a failed connection, fail fast for this long instead of making every page wait. */
  retryAfterMs?: number
}

/** A lazily connected Temporal client shared by every request of the process. */
export function createTemporalProvider(options: TemporalProviderOptions): TemporalProvider {
  const { address, namespace, uiUrl, connectTimeoutMs = 3000, retryAfterMs = 5000 } = options
  let client: Promise<Client> | undefined
  let connection: Connection | undefined
  let failedAt = 0
  let lastFailure: unknown

  return {
    namespace,
    uiUrl,
    async getClient() {
      if (!address) throw new TemporalUnavailableError('not_configured', 'TEMPORAL_ADDRESS is not set')
      if (!client && Date.now() - failedAt < retryAfterMs) {
        throw new TemporalUnavailableError('unreachable', `Temporal at ${address} is unreachable`, { cause: lastFailure })
      }
      client ??= Connection.connect({ address, connectTimeout: connectTimeoutMs }).then(
        (c) => {
          connection = c
          return new Client({ connection: c, namespace })
        },
        (error: unknown) => {
          client = undefined
          failedAt = Date.now()
          lastFailure = error
          throw new TemporalUnavailableError('unreachable', `Temporal at ${address} is unreachable`, { cause: error })
        },
      )
      return client
    },
    async close() {
      const c = connection
      client = undefined
      connection = undefined
      await c?.close()
    },
  }
}

/** Wraps an existing client (tests, or a process that already has one). */
export function temporalProviderFromClient(client: Client, options: { namespace?: string; uiUrl?: string } = {}): TemporalProvider {
  return {
    namespace: options.namespace ?? client.options.namespace,
    uiUrl: options.uiUrl,
    getClient: async () => client,
    close: async () => {},
  }
}

/**
 * True for `TemporalUnavailableError`, matched by its code: in development the provider is created by
 * web/server.ts outside Vite's module graph, so `instanceof` would compare two copies of the class.
 */
export function isTemporalUnavailable(error: unknown): error is TemporalUnavailableError {
  return (error as { code?: unknown } | null)?.code === 'TEMPORAL_UNAVAILABLE'
}

/** gRPC "unavailable"/"deadline exceeded" and connection failures mean the server is away, not that the call was wrong. */
export function isTemporalDownError(error: unknown): boolean {
  if (isTemporalUnavailable(error)) return true
  const code = (error as { code?: unknown } | null)?.code
  if (code === 14 || code === 4) return true
  const name = (error as { name?: unknown } | null)?.name
  return name === 'ServiceError' && /UNAVAILABLE|DEADLINE_EXCEEDED|No connection established/i.test(String((error as Error).message))
}
