import type { Redis } from 'ioredis'

/**
 * Server-sent events for Remix resource routes, and one shared Redis subscriber per process that fans
 * channel messages out to every open stream. The subscriber connection exists only while someone listens.
 */

type Listener = () => void

class ChannelHub {
  private connection: Redis | null = null
  private readonly listeners = new Map<string, Set<Listener>>()

  constructor(private readonly redis: Redis) {}

  private subscriber(): Redis {
    if (!this.connection) {
      // Pub/sub needs its own connection: a subscribed connection can run no other command.
      const connection = this.redis.duplicate({ lazyConnect: false, maxRetriesPerRequest: null })
      connection.on('message', (channel: string) => {
        for (const listener of this.listeners.get(channel) ?? []) listener()
      })
      // A lost connection reconnects and resubscribes by itself; streams fall back to their periodic check meanwhile.
      connection.on('error', () => {})
      this.connection = connection
    }
    return this.connection
  }

  /** Calls `listener` on every message on `channel` until the returned function is called. */
  async listen(channel: string, listener: Listener): Promise<() => Promise<void>> {
    const connection = this.subscriber()
    let set = this.listeners.get(channel)
    if (!set) {
      set = new Set()
      this.listeners.set(channel, set)
    }
    set.add(listener)
    if (set.size === 1) await connection.subscribe(channel)
    let done = false
    return async () => {
      if (done) return
      done = true
      set.delete(listener)
      if (set.size === 0 && this.listeners.get(channel) === set) {
        this.listeners.delete(channel)
        await connection.unsubscribe(channel).catch(() => {})
      }
      if (this.listeners.size === 0 && this.connection === connection) {
        this.connection = null
        connection.disconnect()
      }
    }
  }
}

const hubs = new WeakMap<Redis, ChannelHub>()

/** Subscribes to a Redis channel through the process's shared subscriber; returns the unsubscribe function. */
export function listenToChannel(redis: Redis, channel: string, listener: Listener): Promise<() => Promise<void>> {
  let hub = hubs.get(redis)
  if (!hub) {
    hub = new ChannelHub(redis)
    hubs.set(redis, hub)
  }
  return hub.listen(channel, listener)
}

export interface EventSink {
  send(event: string, data: unknown): void
  close(): void
  readonly closed: boolean
}

/**
 * A `text/event-stream` response. `start` runs once the stream is open and returns its clean-up, which runs
 * exactly once: when `start`'s code closes the stream or when the browser goes away (request aborted).
 * A comment line every `heartbeatMs` keeps proxies from dropping an idle stream.
 */
export function eventStream(
  request: Request,
  start: (sink: EventSink) => Promise<(() => void | Promise<void>) | void>,
  options: { heartbeatMs?: number; retryMs?: number } = {},
): Response {
  const encoder = new TextEncoder()
  let cleanup: (() => void | Promise<void>) | void
  let heartbeat: ReturnType<typeof setInterval> | undefined
  let closed = false
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined

  const finish = () => {
    if (closed) return
    closed = true
    if (heartbeat) clearInterval(heartbeat)
    request.signal.removeEventListener('abort', finish)
    try {
      controllerRef?.close()
    } catch {
      // Already closed by the consumer.
    }
    void Promise.resolve(cleanup?.()).catch(() => {})
  }
  const write = (text: string) => {
    if (closed || !controllerRef) return
    try {
      controllerRef.enqueue(encoder.encode(text))
    } catch {
      finish()
    }
  }
  const sink: EventSink = {
    send(event, data) {
      write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    },
    close: finish,
    get closed() {
      return closed
    },
  }

  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controllerRef = controller
      write(`retry: ${options.retryMs ?? 3000}\n\n`)
      if (request.signal.aborted) return finish()
      request.signal.addEventListener('abort', finish)
      heartbeat = setInterval(() => write(': keep-alive\n\n'), options.heartbeatMs ?? 15_000)
      try {
        cleanup = await start(sink)
      } catch (error) {
        write(`event: error\ndata: ${JSON.stringify({ message: error instanceof Error ? error.message : String(error) })}\n\n`)
        finish()
        return
      }
      // `start` may have closed the stream before its clean-up was known.
      if (closed) void Promise.resolve(cleanup?.()).catch(() => {})
    },
    cancel() {
      finish()
    },
  })

  return new Response(stream, {
    headers: {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    },
  })
}
