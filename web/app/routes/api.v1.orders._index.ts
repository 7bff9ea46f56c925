import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import { getOrderOfUser, listOrdersOfUser } from '#db/shop.ts'
import { MAX_ID, parsePage } from '#domain/ids.ts'
import { multiLineText, nameText } from '#domain/text.ts'
import { apiHandler, apiJson, methodNotAllowed, readJsonBody, requireIdempotencyKey } from '~/utils/api-auth.server.ts'
import { liveOrder, orderJson, placeApiOrder } from '~/utils/reseller-api.server.ts'

const apiIdSchema = z.number().int().positive().max(MAX_ID)

const CreateOrderSchema = z
  .object({
    planId: apiIdSchema,
    locationId: apiIdSchema,
    label: nameText({ max: 64 }).optional(),
    note: multiLineText({ min: 0, max: 500 }).optional(),
  })
  .strict()

/** GET /api/v1/orders: the agent's orders, newest first (`?page=`). */
export function loader({ request, context }: LoaderFunctionArgs) {
  return apiHandler(request, context, async (agent) => {
    const page = parsePage(new URL(request.url).searchParams.get('page'))
    const orders = await listOrdersOfUser(context.db, agent.userId, { page, pageSize: 50 })
    return apiJson({ orders: orders.rows.map((o) => orderJson(o, null)), page: orders.page, hasMore: orders.hasMore })
  })
}

/**
 * POST /api/v1/orders with an `Idempotency-Key` header: a new account on the agent's credit. 201 with the order
 * the first time; the same key again answers 200 with the same order (`Idempotency-Replayed: true`) and makes
 * nothing new.
 */
export function action({ request, context }: ActionFunctionArgs) {
  return apiHandler(request, context, async (agent) => {
    if (request.method !== 'POST') throw methodNotAllowed(['GET', 'POST'])
    const key = requireIdempotencyKey(request)
    const body = await readJsonBody(request, CreateOrderSchema)
    const placed = await placeApiOrder(context, { userId: agent.userId, idempotencyKey: key, planId: body.planId, kind: 'new', locationId: body.locationId, label: body.label, note: body.note })
    const order = (await getOrderOfUser(context.db, agent.userId, placed.order.id))!
    return apiJson(
      { order: orderJson(order, await liveOrder(context, order.id)) },
      { status: placed.created ? 201 : 200, headers: { Location: `/api/v1/orders/${order.id}`, 'Idempotency-Replayed': String(!placed.created) } },
    )
  })
}
