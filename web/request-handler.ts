import type { IncomingMessage } from 'node:http'
import { Transform } from 'node:stream'
import {
  createReadableStreamFromReadable,
  createRequestHandler as createRemixHandler,
  writeReadableStreamToWritable,
  type AppLoadContext,
  type ServerBuild,
} from '@remix-run/node'
import type { NextFunction, Request as ExpressRequest, Response as ExpressResponse } from 'express'
import type { Env } from '#config/env.ts'
import { createFormatters, getDictionary } from './app/i18n/index.ts'
import { bodyLimitFor, describeSize, type RequestBody } from './app/utils/body-limits.server.ts'
import { readPrefs } from './app/utils/prefs.server.ts'

/**
 * The Remix request handler for express, with the request body bounded per route (see body-limits.server.ts):
 * a declared Content-Length over the route's limit is refused before a byte of the body is read, and a chunked
 * body is counted as it arrives and refused the moment it passes the limit. Forms and the API get a 413 here,
 * without any route code; a receipt form reaches its route without the body (`context.body.tooLarge`), so the
 * route can answer with the form and a message that names the limit.
 */

class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the request body is larger than ${maxBytes} bytes`)
    this.name = 'BodyTooLargeError'
  }
}

/** The body as the route reads it, erroring (and calling `onTooLarge`) once more than `maxBytes` arrived. */
function countedBody(req: IncomingMessage, maxBytes: number, onTooLarge: () => void): ReadableStream<Uint8Array> {
  let seen = 0
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length
      if (seen > maxBytes) {
        // Nothing more is read into memory: the rest of the body is discarded as it arrives (see lingerThenClose).
        req.unpipe(counter)
        req.resume()
        onTooLarge()
        done(new BodyTooLargeError(maxBytes))
        return
      }
      done(null, chunk)
    },
  })
  // pipe() stops reading on the counter's error; an error of the request itself (client gone) ends the body too.
  req.once('error', (error) => counter.destroy(error))
  req.pipe(counter)
  return createReadableStreamFromReadable(counter)
}

function fetchHeaders(req: IncomingMessage): Headers {
  const headers = new Headers()
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
  }
  return headers
}

/** The Fetch request Remix sees, as @remix-run/express builds it, with `body` instead of the raw request stream. */
function remixRequest(req: ExpressRequest, res: ExpressResponse, body: ReadableStream<Uint8Array> | undefined): Request {
  const [, forwardedPort] = req.get('X-Forwarded-Host')?.split(':') ?? []
  const [, hostPort] = req.get('host')?.split(':') ?? []
  const port = [Number.parseInt(forwardedPort ?? '', 10), Number.parseInt(hostPort ?? '', 10)].find((p) => Number.isSafeInteger(p))
  const url = new URL(`${req.protocol}://${req.hostname}${port ? `:${port}` : ''}${req.originalUrl}`)
  let controller: AbortController | null = new AbortController()
  // Abort loaders and actions once no response can be written any more (closed before finished).
  res.on('finish', () => (controller = null))
  res.on('close', () => controller?.abort())
  const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers: fetchHeaders(req), signal: controller.signal }
  if (body) {
    init.body = body
    init.duplex = 'half'
  }
  return new Request(url.href, init)
}

/** Writes Remix's response, as @remix-run/express does (event streams are flushed at once). */
async function sendResponse(res: ExpressResponse, response: Response): Promise<void> {
  res.statusMessage = response.statusText
  res.status(response.status)
  for (const [name, value] of response.headers.entries()) res.append(name, value)
  if (/text\/event-stream/i.test(response.headers.get('Content-Type') ?? '')) res.flushHeaders()
  if (response.body) await writeReadableStreamToWritable(response.body, res)
  else res.end()
}

function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length']
  if (header === undefined || !/^\d+$/.test(header)) return undefined
  return Number(header)
}

/** The 413 of a form or API request. */
function refuseTooLarge(req: ExpressRequest, res: ExpressResponse, body: RequestBody, env: Pick<Env, 'DEFAULT_LOCALE' | 'CURRENCY'>): void {
  res.status(413)
  if (body.kind === 'api') {
    res.json({ error: { code: 'PAYLOAD_TOO_LARGE', message: `The request body is larger than ${Math.floor(body.maxBytes / 1024)} KiB, the most this API accepts` } })
  } else {
    // The visitor's language as the sign-in page knows it (no database lookup for a refused request).
    const locale = readPrefs(new Request('http://local/', { headers: { Cookie: req.get('cookie') ?? '' } })).locale ?? env.DEFAULT_LOCALE
    const t = getDictionary(locale)
    const fmt = createFormatters(locale, env.CURRENCY)
    res.type('text/plain; charset=utf-8').send(t.limits.formTooLarge(describeSize(body.maxBytes, fmt.number, t.units)))
  }
}

/**
 * A lingering close for a refused body: the rest of it is read and dropped (node does that once the answer is
 * written) rather than the socket closed at once, which would reset the connection under a client that is still
 * sending, before it has read the answer. A client that goes on sending is cut off after `graceMs`.
 */
function lingerThenClose(req: IncomingMessage, res: ExpressResponse, graceMs = 2_000): void {
  res.once('finish', () => {
    if (req.complete) return
    const timer = setTimeout(() => req.socket.destroy(), graceMs).unref()
    req.once('end', () => clearTimeout(timer))
  })
}

export function createRequestHandler(options: {
  build: ServerBuild | (() => Promise<ServerBuild>)
  mode: string
  env: Pick<Env, 'RECEIPT_MAX_BYTES' | 'DEFAULT_LOCALE' | 'CURRENCY'>
  getLoadContext: (req: ExpressRequest, body: RequestBody) => AppLoadContext
}) {
  const handleRequest = createRemixHandler(options.build, options.mode)
  const { env } = options
  return async (req: ExpressRequest, res: ExpressResponse, next: NextFunction) => {
    const body: RequestBody = { ...bodyLimitFor(req.path, env), tooLarge: false }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    let refused = false
    const tooLarge = () => {
      if (body.tooLarge) return
      body.tooLarge = true
      lingerThenClose(req, res)
      // A receipt form answers through its route, which shows the form again with the limit.
      if (body.kind === 'upload' || res.headersSent) return
      refused = true
      refuseTooLarge(req, res, body, env)
    }
    if (hasBody && (declaredLength(req) ?? 0) > body.maxBytes) {
      tooLarge()
      if (refused) return
    }
    try {
      const stream = hasBody && !body.tooLarge ? countedBody(req, body.maxBytes, tooLarge) : undefined
      const response = await handleRequest(remixRequest(req, res, stream), options.getLoadContext(req, body))
      if (refused) {
        // The route's own answer (to a body that broke off) is not sent; let it finish rendering into nothing.
        await response.body?.pipeTo(new WritableStream()).catch(() => {})
        return
      }
      await sendResponse(res, response)
    } catch (error) {
      if (refused) return
      next(error)
    }
  }
}
