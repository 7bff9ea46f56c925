import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import { getOrderOfUser, listOrdersOfUser } from '#db/shop.ts'
import { apiHandler, apiJson, methodNotAllowed, readJsonBody, requireIdempotencyKey } from '~/utils/api-auth.server.ts'
import { liveOrder, orderJson, placeApiOrder } from '~/utils/reseller-api.server.ts'

const CreateOrderSchema = z
  .object({
    planId: z.number().int().positive(),
    locationId: z.number().int().positive(),
    label: z.string().trim().min(1).max(64).optional(),
    note: z.string().trim().max(500).optional(),
  })
  .strict()

/** GET /api/v1/orders: the agent's orders, newest first (`?page=`). */
export function loader({ request, context }: LoaderFunctionArgs) {
  return apiHandler(request, context, async (agent) => {
    const page = Math.max(1, Number(new URL(request.url).searchParams.get('page')) || 1)
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
