import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { getOrderOfUser } from '#db/shop.ts'
import { ApiError, apiHandler, apiId, apiJson, methodNotAllowed } from '~/utils/api-auth.server.ts'
import { liveOrder, orderJson } from '~/utils/reseller-api.server.ts'

/** GET /api/v1/orders/:id: the order with its live step (queued → paying → provisioning (attempt n) → delivered). */
export function loader({ request, context, params }: LoaderFunctionArgs) {
  return apiHandler(request, context, async (agent) => {
    const id = apiId(params.id, 'order')
    const order = await getOrderOfUser(context.db, agent.userId, id)
    if (!order) throw new ApiError(404, 'NOT_FOUND', `No order ${id} of yours`)
    return apiJson({ order: orderJson(order, await liveOrder(context, id)) })
  })
}

export function action({ request, context }: ActionFunctionArgs) {
  return apiHandler(request, context, async () => {
    throw methodNotAllowed(['GET'])
  })
}
