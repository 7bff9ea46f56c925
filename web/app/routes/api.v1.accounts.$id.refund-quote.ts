import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { previewRefund, RefundRefusedError } from '#db/accounts.ts'
import { getAccountOfUser } from '#db/shop.ts'
import { ApiError, apiHandler, apiId, apiJson, methodNotAllowed } from '~/utils/api-auth.server.ts'
import { refusalToApiError } from '~/utils/reseller-api.server.ts'

/** GET /api/v1/accounts/:id/refund-quote: what deleting the account now would refund, by the refund policy. */
export function loader({ request, context, params }: LoaderFunctionArgs) {
  return apiHandler(request, context, async (agent) => {
    const id = apiId(params.id, 'account')
    if (!(await getAccountOfUser(context.db, agent.userId, id))) throw new ApiError(404, 'NOT_FOUND', `No account ${id} of yours`)
    try {
      const q = await previewRefund(context.db, { accountId: id, requestedBy: agent.userId })
      return apiJson({
        quote: {
          accountId: id,
          amount: q.quote.amount.toString(),
          paid: q.paid.toString(),
          rule: q.quote.rule,
          usedTimeBps: q.quote.usedTimeBps,
          usedTrafficBps: q.quote.usedTrafficBps,
          panelAction: q.panelAction,
        },
      })
    } catch (error) {
      if (error instanceof RefundRefusedError) throw refusalToApiError(error)
      throw error
    }
  })
}

export function action({ request, context }: ActionFunctionArgs) {
  return apiHandler(request, context, async () => {
    throw methodNotAllowed(['GET'])
  })
}
