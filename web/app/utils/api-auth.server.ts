import type { AppLoadContext } from '@remix-run/node'
import type { Client } from '@temporalio/client'
import { z } from 'zod'
import { redisNames } from '#config/redis-names.ts'
import { authenticateApiToken, type ApiPrincipal } from '#db/api-tokens.ts'
import { parseId } from '#domain/ids.ts'
import { isTemporalDownError, TemporalUnavailableError } from './temporal.server.ts'

/**
 * The reseller API's plumbing: bearer-token authentication (per-agent tokens, hashed at rest), a per-token rate
 * limit, JSON bodies checked with zod, and one error shape for everything: `{ "error": { "code", "message" } }`
 * with a stable `code`.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly details?: unknown,
  ) {
    super(message)
  }
}

const JSON_HEADERS = { 'Cache-Control': 'no-store' }

export function apiJson(body: unknown, init: { status?: number; headers?: Record<string, string> } = {}): Response {
  return Response.json(body, { status: init.status ?? 200, headers: { ...JSON_HEADERS, ...init.headers } })
}

export function apiErrorResponse(error: ApiError): Response {
  const body: { error: { code: string; message: string; details?: unknown } } = { error: { code: error.code, message: error.message } }
  if (error.details !== undefined) body.error.details = error.details
  return apiJson(body, { status: error.status, headers: error.headers })
}

/** Requests a token may make per minute. */
export const API_RATE_PER_MINUTE = 120

/** The agent behind the request's `Authorization: Bearer` token; 401 otherwise, 429 past the rate limit. */
export async function requireApiAgent(request: Request, context: AppLoadContext): Promise<ApiPrincipal> {
  const header = request.headers.get('Authorization') ?? ''
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim())
  const challenge = { 'WWW-Authenticate': 'Bearer realm="flowpanel"' }
  if (!match) throw new ApiError(401, 'UNAUTHENTICATED', 'Send an API token as "Authorization: Bearer <token>"; agents create tokens in their settings', challenge)
  const principal = await authenticateApiToken(context.db, match[1]!)
  if (!principal) throw new ApiError(401, 'INVALID_TOKEN', 'The API token is unknown, revoked, or belongs to a disabled account', challenge)
  const key = redisNames(context.env).key('api', 'rate', principal.tokenId, Math.floor(Date.now() / 60_000))
  const [[, count]] = (await context.redis.multi().incr(key).expire(key, 120).exec()) as [[Error | null, number]]
  if (count > API_RATE_PER_MINUTE) {
    const retryAfter = 60 - Math.floor((Date.now() % 60_000) / 1000)
    throw new ApiError(429, 'RATE_LIMITED', `At most ${API_RATE_PER_MINUTE} requests a minute per token; try again in ${retryAfter} s`, { 'Retry-After': String(retryAfter) })
  }
  return principal
}

/** Parses a JSON body with `schema`; 400/422 with the field problems otherwise. An empty body counts as `{}`. */
export async function readJsonBody<S extends z.ZodTypeAny>(request: Request, schema: S): Promise<z.output<S>> {
  const type = request.headers.get('Content-Type') ?? ''
  const text = await request.text()
  let value: unknown = {}
  if (text.trim() !== '') {
    if (!type.includes('application/json')) throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json')
    try {
      value = JSON.parse(text)
    } catch {
      throw new ApiError(400, 'INVALID_JSON', 'The body is not valid JSON')
    }
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }))
    throw new ApiError(422, 'INVALID_INPUT', `Invalid request: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`, {}, { fields })
  }
  return parsed.data
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/

/** The `Idempotency-Key` header, required on requests that move money. */
export function requireIdempotencyKey(request: Request): string {
  const key = request.headers.get('Idempotency-Key')
  if (key === null) throw new ApiError(400, 'IDEMPOTENCY_KEY_REQUIRED', 'This request moves money: send an Idempotency-Key header (1 to 200 visible ASCII characters, unique per order)')
  if (!IDEMPOTENCY_KEY.test(key)) throw new ApiError(400, 'INVALID_IDEMPOTENCY_KEY', 'The Idempotency-Key header must be 1 to 200 visible ASCII characters')
  return key
}

export async function apiTemporal(context: AppLoadContext): Promise<Client> {
  try {
    return await context.temporal.getClient()
  } catch (error) {
    if (error instanceof TemporalUnavailableError) throw new ApiError(503, 'WORKFLOWS_UNAVAILABLE', 'The workflow service is not reachable right now; try again shortly', { 'Retry-After': '30' })
    throw error
  }
}

/** A path id (digits, 1 to 2147483647; see domain/ids.ts); anything else is a JSON 404. */
export function apiId(value: string | undefined, what: string): number {
  const id = parseId(value)
  if (id === null) throw new ApiError(404, 'NOT_FOUND', `No ${what} ${JSON.stringify(value ?? '').slice(0, 40)}`)
  return id
}

/**
 * Runs an API handler: authentication first, then the handler; every failure becomes the JSON error shape.
 * Errors nobody expected are logged with the request and answered as INTERNAL without details.
 */
export async function apiHandler(
  request: Request,
  context: AppLoadContext,
  handler: (principal: ApiPrincipal) => Promise<Response>,
): Promise<Response> {
  try {
    const principal = await requireApiAgent(request, context)
    return await handler(principal)
  } catch (error) {
    if (error instanceof ApiError) return apiErrorResponse(error)
    if (error instanceof Response) return error
    if (isTemporalDownError(error)) return apiErrorResponse(new ApiError(503, 'WORKFLOWS_UNAVAILABLE', 'The workflow service is not reachable right now; try again shortly', { 'Retry-After': '30' }))
    console.error(`API ${request.method} ${new URL(request.url).pathname} failed:`, error)
    return apiErrorResponse(new ApiError(500, 'INTERNAL', 'The server could not finish this request'))
  }
}

export function methodNotAllowed(allowed: string[]): ApiError {
  return new ApiError(405, 'METHOD_NOT_ALLOWED', `Use ${allowed.join(' or ')} here`, { Allow: allowed.join(', ') })
}
