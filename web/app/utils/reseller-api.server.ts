import type { AppLoadContext } from '@remix-run/node'
import { RefundRefusedError } from '#db/accounts.ts'
import { OrderRefusedError, placeOrder, type OrderRefusalCode, type PlacedOrder } from '#db/orders.ts'
import type { AccountLine, OrderLine } from '#db/shop.ts'
import type { LiveStatus } from '~/components/status-tracker.tsx'
import { ApiError, apiTemporal } from './api-auth.server.ts'
import { loadSubject, readLiveStatus } from './live-status.server.ts'

/** What the reseller API sends and does, on top of the same services the web pages use. */

export function planJson(p: { id: number; nameFa: string; nameEn: string; days: number; dataLimitBytes: string; price: string; locations: { id: number; code: string; nameFa: string; nameEn: string }[] }) {
  return {
    id: p.id,
    name: { fa: p.nameFa, en: p.nameEn },
    days: p.days,
    dataLimitBytes: p.dataLimitBytes,
    price: p.price,
    locations: p.locations.map((l) => ({ id: l.id, code: l.code, name: { fa: l.nameFa, en: l.nameEn } })),
  }
}

export function accountJson(a: AccountLine) {
  return {
    id: a.id,
    orderId: a.orderId,
    planId: a.planId,
    locationId: a.locationId,
    username: a.panelUsername,
    label: a.label,
    status: a.status,
    disabledReason: a.disabledReason,
    subscriptionUrl: a.status === 'deleted' ? null : a.subscriptionUrl,
    expiresAt: a.expiresAt ? new Date(a.expiresAt).toISOString() : null,
    dataLimitBytes: a.dataLimitBytes,
    dataUsedBytes: a.dataUsedBytes,
    usageSyncedAt: a.usageSyncedAt ? new Date(a.usageSyncedAt).toISOString() : null,
    createdAt: new Date(a.createdAt).toISOString(),
  }
}

export function orderJson(o: OrderLine & { locationId?: number | null }, live: LiveStatus | null) {
  return {
    id: o.id,
    kind: o.kind,
    status: o.status,
    step: live?.step ?? null,
    attempt: live?.attempt ?? 0,
    lastError: live?.lastError ?? (o.status === 'failed' || o.status === 'cancelled' ? o.failureReason : null),
    planId: o.planId,
    price: o.price,
    payMethod: o.payMethod,
    accountId: live?.accountId ?? o.accountId,
    subscriptionUrl: live?.subscriptionUrl ?? null,
    label: o.requestedUsername,
    note: o.note,
    createdAt: new Date(o.createdAt).toISOString(),
    deliveredAt: o.deliveredAt ? new Date(o.deliveredAt).toISOString() : null,
  }
}

export async function liveOrder(context: AppLoadContext, orderId: number): Promise<LiveStatus | null> {
  const subject = await loadSubject(context.db, 'order', orderId)
  return subject ? readLiveStatus(context, subject, { queryTimeoutMs: 2000 }) : null
}

const ORDER_STATUS_FOR: Partial<Record<OrderRefusalCode, number>> = {
  INVALID_INPUT: 422,
  USER_NOT_FOUND: 403,
  USER_DISABLED: 403,
  PLAN_NOT_FOUND: 422,
  PLAN_INACTIVE: 422,
  LOCATION_REQUIRED: 422,
  LOCATION_NOT_ALLOWED: 422,
  ACCOUNT_NOT_FOUND: 404,
  NEGATIVE_CREDIT: 409,
  INSUFFICIENT_CREDIT: 402,
  MAX_ACCOUNTS_REACHED: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  WORKFLOW_START_FAILED: 503,
}

export function refusalToApiError(error: OrderRefusedError | RefundRefusedError): ApiError {
  if (error instanceof RefundRefusedError) {
    const status = error.code === 'ACCOUNT_NOT_FOUND' ? 404 : error.code === 'ALREADY_DELETED' ? 409 : error.code === 'INVALID_INPUT' ? 422 : 403
    return new ApiError(status, error.code, error.message)
  }
  if (error.code === 'IDEMPOTENCY_KEY_REUSED') {
    return new ApiError(409, error.code, `This Idempotency-Key was already used for order ${error.facts.orderId} with different parameters; use a new key for a new order`, {}, { orderId: error.facts.orderId })
  }
  return new ApiError(ORDER_STATUS_FOR[error.code] ?? 400, error.code, error.message, {}, error.field ? { field: error.field } : undefined)
}

/**
 * Places an order for the API: the caller's Idempotency-Key is the order's key (namespaced, so it never meets a
 * key of the web forms). The same key with a different request (label and note included) is refused by the service
 * rather than answered with the old order.
 */
export async function placeApiOrder(
  context: AppLoadContext,
  input: { userId: number; idempotencyKey: string; planId: number; kind: 'new' | 'renew'; locationId?: number | null; accountId?: number | null; label?: string | null; note?: string | null },
): Promise<PlacedOrder> {
  const client = await apiTemporal(context)
  try {
    return await placeOrder(context.db, client, {
      userId: input.userId,
      planId: input.planId,
      locationId: input.kind === 'new' ? input.locationId : null,
      accountId: input.kind === 'renew' ? input.accountId : null,
      kind: input.kind,
      payMethod: 'wallet',
      idempotencyKey: `api:${input.idempotencyKey}`,
      requestedUsername: input.label ?? null,
      note: input.note ?? null,
    })
  } catch (error) {
    if (error instanceof OrderRefusedError) throw refusalToApiError(error)
    throw error
  }
}
