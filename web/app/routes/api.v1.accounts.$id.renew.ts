import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import { getAccountOfUser, getOrderOfUser } from '#db/shop.ts'
import { MAX_ID } from '#domain/ids.ts'
import { ApiError, apiHandler, apiId, apiJson, methodNotAllowed, readJsonBody, requireIdempotencyKey } from '~/utils/api-auth.server.ts'
import { liveOrder, orderJson, placeApiOrder } from '~/utils/reseller-api.server.ts'

const apiIdSchema = z.number().int().positive().max(MAX_ID)

const RenewSchema = z.object({ planId: apiIdSchema.optional() }).strict()

/**
 * POST /api/v1/accounts/:id/renew with an `Idempotency-Key` header: adds a plan's days and traffic to the account
 * (the account's own plan unless `planId` is given), paid from the agent's credit. 201 with the renewal order;
 * the same key again answers 200 with the same order.
 */
export function action({ request, context, params }: ActionFunctionArgs) {
  return apiHandler(request, context, async (agent) => {
    if (request.method !== 'POST') throw methodNotAllowed(['POST'])
    const id = apiId(params.id, 'account')
    const key = requireIdempotencyKey(request)
    const body = await readJsonBody(request, RenewSchema)
    const account = await getAccountOfUser(context.db, agent.userId, id)
    if (!account || account.status === 'deleted') throw new ApiError(404, 'NOT_FOUND', `No account ${id} of yours`)
    const placed = await placeApiOrder(context, { userId: agent.userId, idempotencyKey: key, planId: body.planId ?? account.planId, kind: 'renew', accountId: id })
    const order = (await getOrderOfUser(context.db, agent.userId, placed.order.id))!
    return apiJson(
      { order: orderJson(order, await liveOrder(context, order.id)) },
      { status: placed.created ? 201 : 200, headers: { Location: `/api/v1/orders/${order.id}`, 'Idempotency-Replayed': String(!placed.created) } },
    )
  })
}

export function loader({ request, context }: LoaderFunctionArgs) {
  return apiHandler(request, context, async () => {
    throw methodNotAllowed(['POST'])
  })
}
