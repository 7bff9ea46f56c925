/**
 * Plumbing shared by the fake panels (tests/fakes/marzban.ts, tests/fakes/3x-ui.ts) and a tiny
 * forward proxy for proxy tests.
 *
 * `startFakeHttp(handler)` serves `handler` on 127.0.0.1 (port 0 unless given) and adds the fault
 * knobs every fake has:
 *   latencyMs            delay before each request is handled
 *   failNext(n, status?, pathIncludes?)
 *                        the next n matching requests answer `status` (default 500) with the
 *                        fake's own 5xx body instead of being handled
 *   hang                 while true, requests are accepted and never answered (timeouts)
 *   down() / up()        stop listening and cut every connection (connection refused) / listen
 *                        again on the same port
 *   close()              stop for good
 *   requests             method + path of every request seen, in order
 */
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo, Socket } from 'node:net'

export interface FakeRequest {
  method: string
  /** Path with query string, as received. */
  url: string
  path: string
  query: URLSearchParams
  headers: http.IncomingHttpHeaders
  body: string
}

export interface FakeResponse {
  status: number
  headers?: Record<string, string | string[]>
  body?: string
}

export type FakeHandler = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>

export interface FakeHttpServer {
  readonly url: string
  readonly port: number
  latencyMs: number
  hang: boolean
  readonly requests: { method: string; path: string }[]
  failNext(count: number, status?: number, pathIncludes?: string): void
  down(): Promise<void>
  up(): Promise<void>
  close(): Promise<void>
}

export interface FakeHttpOptions {
  port?: number
  latencyMs?: number
  /** Body sent for injected 5xx answers. */
  errorBody?: (status: number) => FakeResponse
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function startFakeHttp(handler: FakeHandler, options: FakeHttpOptions = {}): Promise<FakeHttpServer> {
  const sockets = new Set<Socket>()
  const failures: { remaining: number; status: number; pathIncludes?: string }[] = []
  const requests: { method: string; path: string }[] = []
  const errorBody = options.errorBody ?? ((status: number) => ({ status, body: '' }))

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://fake')
        const path = url.pathname
        requests.push({ method: req.method ?? 'GET', path })
        if (fake.hang) return // never answer; the socket is destroyed by down()/close()
        if (fake.latencyMs > 0) await sleep(fake.latencyMs)
        let answer: FakeResponse
        const failure = failures.find((f) => f.remaining > 0 && (!f.pathIncludes || path.includes(f.pathIncludes)))
        if (failure) {
          failure.remaining--
          answer = errorBody(failure.status)
        } else {
          try {
            answer = await handler({
              method: req.method ?? 'GET',
              url: req.url ?? '/',
              path,
              query: url.searchParams,
              headers: req.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            })
          } catch (error) {
            process.stderr.write(`fake panel handler crashed: ${error instanceof Error ? error.stack : String(error)}\n`)
            answer = errorBody(500)
          }
        }
        if (res.destroyed) return
        res.writeHead(answer.status, answer.headers)
        res.end(answer.body ?? '')
      })()
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve((server.address() as AddressInfo).port)
      })
    })
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      if (!server.listening) return resolve()
      server.close(() => resolve())
    })

  const port = await listen(options.port ?? 0)
  const fake: FakeHttpServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    latencyMs: options.latencyMs ?? 0,
    hang: false,
    requests,
    failNext(count, status = 500, pathIncludes) {
      failures.push({ remaining: count, status, pathIncludes })
    },
    down: stop,
    async up() {
      if (!server.listening) await listen(port)
    },
    close: stop,
  }
  return fake
}

/**
 * A forward proxy that tunnels CONNECT requests (what undici's ProxyAgent sends) and counts them.
 * `require` lets a test demand a Proxy-Authorization header value.
 */
export async function startFakeProxy(options: { requireAuthorization?: string } = {}): Promise<{
  url: string
  readonly tunnels: number
  close(): Promise<void>
}> {
  const sockets = new Set<Socket>()
  let tunnels = 0
  const server = http.createServer((_req, res) => {
    res.writeHead(405)
    res.end()
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.on('connect', (req, clientSocket: Socket, head: Buffer) => {
    if (options.requireAuthorization && req.headers['proxy-authorization'] !== options.requireAuthorization) {
      clientSocket.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n')
      return
    }
    const [host, port] = (req.url ?? '').split(':')
    const upstream = net.connect(Number(port), host, () => {
      tunnels++
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(clientSocket)
      clientSocket.pipe(upstream)
    })
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.on('error', () => clientSocket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'))
    clientSocket.on('error', () => upstream.destroy())
  })
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)))
  return {
    url: `http://127.0.0.1:${port}`,
    get tunnels() {
      return tunnels
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

export function json(status: number, body: unknown, headers: Record<string, string | string[]> = {}): FakeResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }
}

/** Parses `a=1&b=2` bodies. */
export function parseForm(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body))
}

/** Reads `--port N` and similar flags for running a fake standalone. */
export function cliFlag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 ? argv[i + 1] : undefined
}

/**
 * The knobs and inspection every panel fake offers, delegated to the HTTP server it runs on, plus the fake's own
 * clock (`now()`, moved forward by `advance(ms)`, e.g. to expire tokens or sessions).
 */
export abstract class FakeServerControls {
  private clockOffset = 0

  constructor(protected readonly server: FakeHttpServer) {}

  get url(): string {
    return this.server.url
  }
  get port(): number {
    return this.server.port
  }
  get latencyMs(): number {
    return this.server.latencyMs
  }
  set latencyMs(ms: number) {
    this.server.latencyMs = ms
  }
  get hang(): boolean {
    return this.server.hang
  }
  set hang(on: boolean) {
    this.server.hang = on
  }
  get requests(): { method: string; path: string }[] {
    return this.server.requests
  }
  failNext(count: number, status = 500, pathIncludes?: string): void {
    this.server.failNext(count, status, pathIncludes)
  }
  down(): Promise<void> {
    return this.server.down()
  }
  up(): Promise<void> {
    return this.server.up()
  }
  close(): Promise<void> {
    return this.server.close()
  }
  now(): number {
    return Date.now() + this.clockOffset
  }
  advance(ms: number): void {
    this.clockOffset += ms
  }
}
