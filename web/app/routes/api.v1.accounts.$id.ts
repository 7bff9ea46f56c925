import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { z } from 'zod'
import { RefundRefusedError, requestRefund } from '#db/accounts.ts'
import { getAccountOfUser } from '#db/shop.ts'
import { singleLineText } from '#domain/text.ts'
import { ApiError, apiHandler, apiId, apiJson, apiTemporal, methodNotAllowed, readJsonBody } from '~/utils/api-auth.server.ts'
import { accountJson, refusalToApiError } from '~/utils/reseller-api.server.ts'

/** GET /api/v1/accounts/:id: one account with its subscription link, usage and expiry. */
export function loader({ request, context, params }: LoaderFunctionArgs) {
  return apiHandler(request, context, async (agent) => {
    const id = apiId(params.id, 'account')
    const account = await getAccountOfUser(context.db, agent.userId, id)
    if (!account) throw new ApiError(404, 'NOT_FOUND', `No account ${id} of yours`)
    return apiJson({ account: accountJson(account) })
  })
}

const DeleteSchema = z.object({ reason: singleLineText({ max: 300 }).optional() }).strict()

/**
 * DELETE /api/v1/accounts/:id: removes the account from its panel and refunds the quote (see
 * `GET /api/v1/accounts/:id/refund-quote`). 202: the refund workflow runs; asking again finds the same refund.
 */
export function action({ request, context, params }: ActionFunctionArgs) {
  return apiHandler(request, context, async (agent) => {
    if (request.method !== 'DELETE') throw methodNotAllowed(['GET', 'DELETE'])
    const id = apiId(params.id, 'account')
    const body = await readJsonBody(request, DeleteSchema)
    if (!(await getAccountOfUser(context.db, agent.userId, id))) throw new ApiError(404, 'NOT_FOUND', `No account ${id} of yours`)
    const client = await apiTemporal(context)
    try {
      const { quote, workflowId } = await requestRefund(context.db, client, { accountId: id, requestedBy: agent.userId, reason: body.reason ?? 'deleted through the reseller API' })
      return apiJson(
        { refund: { accountId: id, workflowId, amount: quote.quote.amount.toString(), rule: quote.quote.rule, panelAction: quote.panelAction } },
        { status: 202 },
      )
    } catch (error) {
      if (error instanceof RefundRefusedError) throw refusalToApiError(error)
      throw error
    }
  })
}
