import { API_RATE_PER_MINUTE } from './api-auth.server.ts'
import { API_BODY_MAX_BYTES } from './body-limits.server.ts'

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const money = { type: 'string', pattern: '^-?[0-9]+$', description: 'Amount in the smallest unit of the configured currency, as a decimal string' }
const bytes = { type: 'string', pattern: '^[0-9]+$', description: 'Bytes as a decimal string; 0 means unlimited' }
const isoTime = { type: 'string', format: 'date-time' }
const nullable = (schema: Record<string, unknown>) => ({ ...schema, nullable: true })
const idParam = (name: string, what: string) => ({ name, in: 'path', required: true, description: `The ${what} id`, schema: { type: 'integer', minimum: 1 } })
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: true,
  description: 'Unique per intended order. Repeating a request with the same key returns the first order (200) instead of making another; the same key with different parameters (label and note included) is refused (409 IDEMPOTENCY_KEY_REUSED).',
  schema: { type: 'string', minLength: 1, maxLength: 200 },
}
const json = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } })
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), { $ref: `#/components/responses/Error${c}` }]))

const ERROR_TEXT: Record<number, string> = {
  400: 'Bad request (missing or malformed Idempotency-Key, invalid JSON)',
  401: 'Missing, unknown or revoked token (UNAUTHENTICATED, INVALID_TOKEN)',
  402: 'Not enough credit, counting the orders placed and not yet paid (INSUFFICIENT_CREDIT)',
  403: 'Not allowed (e.g. NOT_ALLOWED: deleting for a refund is off for this agent)',
  404: 'No such resource of yours (NOT_FOUND, ACCOUNT_NOT_FOUND)',
  409: 'Refused by a business rule (NEGATIVE_CREDIT, MAX_ACCOUNTS_REACHED, ALREADY_DELETED, IDEMPOTENCY_KEY_REUSED)',
  413: `The body is larger than ${API_BODY_MAX_BYTES / 1024} KiB (PAYLOAD_TOO_LARGE); refused before it is read`,
  415: 'The body is not application/json',
  422: 'Invalid input (INVALID_INPUT, PLAN_NOT_FOUND, PLAN_INACTIVE, LOCATION_NOT_ALLOWED); `details.fields` lists the fields',
  429: `More than ${API_RATE_PER_MINUTE} requests a minute with one token (RATE_LIMITED); see Retry-After`,
  503: 'The workflow service is unavailable (WORKFLOWS_UNAVAILABLE); retry with the same Idempotency-Key',
}

/** The reseller API described as OpenAPI 3.0; kept next to the routes it describes. */
export function openApiDocument(serverUrl: string) {
  return {
    openapi: '3.0.3',
    info: {
      title: 'flowpanel reseller API',
      version: '1.0.0',
      description:
        'Sell and manage VPN accounts from your own shop or bot. Every request carries an API token made in the agent console (Settings → API tokens) as `Authorization: Bearer <token>`. Errors are always `{ "error": { "code", "message" } }` with a stable code. Orders are paid from your credit at the agent price and provisioned by a workflow: poll `GET /orders/{id}` until `status` is `delivered` (or `failed`).',
    },
    servers: [{ url: serverUrl }],
    security: [{ bearerAuth: [] }],
    paths: {
      '/plans': {
        get: { operationId: 'listPlans', summary: 'Plans on sale to you, at the agent price', responses: { '200': json({ type: 'object', required: ['plans'], properties: { plans: { type: 'array', items: ref('Plan') } } }, 'Plans'), ...errors(401, 429) } },
      },
      '/orders': {
        get: {
          operationId: 'listOrders',
          summary: 'Your orders, newest first',
          parameters: [{ name: 'page', in: 'query', schema: { type: 'integer', minimum: 1 } }],
          responses: { '200': json({ type: 'object', required: ['orders', 'page', 'hasMore'], properties: { orders: { type: 'array', items: ref('Order') }, page: { type: 'integer' }, hasMore: { type: 'boolean' } } }, 'Orders'), ...errors(401, 429) },
        },
        post: {
          operationId: 'createOrder',
          summary: 'Order a new account',
          parameters: [idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: ref('CreateOrder') } } },
          responses: {
            '201': json({ type: 'object', required: ['order'], properties: { order: ref('Order') } }, 'Order placed; its workflow provisions the account'),
            '200': json({ type: 'object', required: ['order'], properties: { order: ref('Order') } }, 'The order made earlier with this Idempotency-Key (header Idempotency-Replayed: true)'),
            ...errors(400, 401, 402, 409, 413, 415, 422, 429, 503),
          },
        },
      },
      '/orders/{id}': {
        get: { operationId: 'getOrder', summary: 'An order and its live step', parameters: [idParam('id', 'order')], responses: { '200': json({ type: 'object', required: ['order'], properties: { order: ref('Order') } }, 'The order'), ...errors(401, 404, 429) } },
      },
      '/accounts': {
        get: {
          operationId: 'listAccounts',
          summary: 'Your accounts, newest first',
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string', enum: ['all', 'active', 'disabled', 'limited', 'expired', 'deleted'], default: 'all' }, description: '`all` leaves out deleted accounts' },
            { name: 'q', in: 'query', schema: { type: 'string', maxLength: 100 }, description: 'Matches the username, label or note' },
            { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1 } },
          ],
          responses: { '200': json({ type: 'object', required: ['accounts', 'page', 'hasMore'], properties: { accounts: { type: 'array', items: ref('Account') }, page: { type: 'integer' }, hasMore: { type: 'boolean' } } }, 'Accounts'), ...errors(401, 422, 429) },
        },
      },
      '/accounts/{id}': {
        get: { operationId: 'getAccount', summary: 'One account', parameters: [idParam('id', 'account')], responses: { '200': json({ type: 'object', required: ['account'], properties: { account: ref('Account') } }, 'The account'), ...errors(401, 404, 429) } },
        delete: {
          operationId: 'deleteAccount',
          summary: 'Delete the account and refund the quote',
          description: 'Removes the account from its panel, then refunds the amount of `GET /accounts/{id}/refund-quote` to your credit. Asking again while it runs finds the same refund.',
          parameters: [idParam('id', 'account')],
          requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: { reason: { type: 'string', minLength: 1, maxLength: 300, description: 'One line; control characters (NUL, line breaks) are refused with 422' } }, additionalProperties: false } } } },
          responses: { '202': json({ type: 'object', required: ['refund'], properties: { refund: ref('Refund') } }, 'Refund started'), ...errors(401, 403, 404, 409, 413, 415, 422, 429, 503) },
        },
      },
      '/accounts/{id}/refund-quote': {
        get: { operationId: 'getRefundQuote', summary: 'What deleting the account now would refund', parameters: [idParam('id', 'account')], responses: { '200': json({ type: 'object', required: ['quote'], properties: { quote: ref('RefundQuote') } }, 'The quote'), ...errors(401, 403, 404, 409, 429) } },
      },
      '/accounts/{id}/renew': {
        post: {
          operationId: 'renewAccount',
          summary: "Renew an account (adds the plan's days and traffic)",
          parameters: [idParam('id', 'account'), idempotencyKey],
          requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: { planId: { type: 'integer', minimum: 1, maximum: 2147483647, description: "Defaults to the account's plan" } }, additionalProperties: false } } } },
          responses: {
            '201': json({ type: 'object', required: ['order'], properties: { order: ref('Order') } }, 'Renewal order placed'),
            '200': json({ type: 'object', required: ['order'], properties: { order: ref('Order') } }, 'The renewal made earlier with this Idempotency-Key'),
            ...errors(400, 401, 402, 404, 409, 413, 415, 422, 429, 503),
          },
        },
      },
    },
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token from the agent console' } },
      responses: Object.fromEntries(Object.entries(ERROR_TEXT).map(([code, text]) => [`Error${code}`, json(ref('Error'), text)])),
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', example: 'NEGATIVE_CREDIT' }, message: { type: 'string' }, details: { type: 'object' } } } },
        },
        Name: { type: 'object', required: ['fa', 'en'], properties: { fa: { type: 'string' }, en: { type: 'string' } } },
        Location: { type: 'object', required: ['id', 'code', 'name'], properties: { id: { type: 'integer' }, code: { type: 'string' }, name: ref('Name') } },
        Plan: {
          type: 'object',
          required: ['id', 'name', 'days', 'dataLimitBytes', 'price', 'locations'],
          properties: { id: { type: 'integer' }, name: ref('Name'), days: { type: 'integer' }, dataLimitBytes: bytes, price: money, locations: { type: 'array', items: ref('Location') } },
        },
        CreateOrder: {
          type: 'object',
          required: ['planId', 'locationId'],
          additionalProperties: false,
          properties: {
            planId: { type: 'integer', minimum: 1, maximum: 2147483647 },
            locationId: { type: 'integer', minimum: 1, maximum: 2147483647 },
            label: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              description: 'Your own name for the account (e.g. your customer); the panel username is made by flowpanel. One line, no control or direction override characters (422 otherwise)',
            },
            note: { type: 'string', maxLength: 500, description: 'Control characters other than line breaks and tabs are refused with 422' },
          },
        },
        Order: {
          type: 'object',
          required: ['id', 'kind', 'status', 'planId', 'price', 'payMethod', 'createdAt'],
          properties: {
            id: { type: 'integer' },
            kind: { type: 'string', enum: ['new', 'renew', 'extend'] },
            status: { type: 'string', enum: ['pending', 'awaiting_payment', 'provisioning', 'delivered', 'failed', 'cancelled', 'refunded'] },
            step: nullable({ type: 'string', enum: ['queued', 'awaiting_payment', 'paying', 'provisioning', 'delivering', 'delivered', 'compensating', 'refunded', 'failed', 'cancelled'], description: "The workflow's live step" }),
            attempt: { type: 'integer', description: 'Provisioning attempt (1-based), 0 before provisioning' },
            lastError: nullable({ type: 'string' }),
            planId: { type: 'integer' },
            price: money,
            payMethod: { type: 'string', enum: ['wallet', 'receipt', 'zarinpal'] },
            accountId: nullable({ type: 'integer' }),
            subscriptionUrl: nullable({ type: 'string' }),
            label: nullable({ type: 'string' }),
            note: nullable({ type: 'string' }),
            createdAt: isoTime,
            deliveredAt: nullable(isoTime),
          },
        },
        Account: {
          type: 'object',
          required: ['id', 'orderId', 'planId', 'locationId', 'username', 'status', 'dataLimitBytes', 'dataUsedBytes', 'createdAt'],
          properties: {
            id: { type: 'integer' },
            orderId: { type: 'integer' },
            planId: { type: 'integer' },
            locationId: { type: 'integer' },
            username: { type: 'string', description: 'The username on the panel' },
            label: nullable({ type: 'string' }),
            status: { type: 'string', enum: ['active', 'disabled', 'limited', 'expired', 'deleted'] },
            disabledReason: nullable({ type: 'string', enum: ['negative_credit', 'admin', 'expired', 'limited'] }),
            subscriptionUrl: nullable({ type: 'string' }),
            expiresAt: nullable(isoTime),
            dataLimitBytes: bytes,
            dataUsedBytes: bytes,
            usageSyncedAt: nullable(isoTime),
            createdAt: isoTime,
          },
        },
        RefundQuote: {
          type: 'object',
          required: ['accountId', 'amount', 'paid', 'rule', 'panelAction'],
          properties: {
            accountId: { type: 'integer' },
            amount: money,
            paid: money,
            rule: { type: 'string', enum: ['full_window', 'prorated', 'expired', 'traffic_used_up', 'nothing_paid'] },
            usedTimeBps: { type: 'integer', description: 'Used share of the term, in basis points' },
            usedTrafficBps: { type: 'integer', description: 'Used share of the traffic, in basis points' },
            panelAction: { type: 'string', enum: ['delete', 'disable'] },
          },
        },
        Refund: {
          type: 'object',
          required: ['accountId', 'workflowId', 'amount', 'rule', 'panelAction'],
          properties: { accountId: { type: 'integer' }, workflowId: { type: 'string' }, amount: money, rule: { type: 'string' }, panelAction: { type: 'string', enum: ['delete', 'disable'] } },
        },
      },
    },
  }
}

