import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { listPlansForBuyer } from '#db/shop.ts'
import { apiHandler, apiJson, methodNotAllowed } from '~/utils/api-auth.server.ts'
import { planJson } from '~/utils/reseller-api.server.ts'

/** GET /api/v1/plans: plans on sale to the agent, at the agent price, with the locations the agent may sell in. */
export function loader({ request, context }: LoaderFunctionArgs) {
  return apiHandler(request, context, async (agent) => apiJson({ plans: (await listPlansForBuyer(context.db, agent.userId)).map(planJson) }))
}

export function action({ request, context }: ActionFunctionArgs) {
  return apiHandler(request, context, async () => {
    throw methodNotAllowed(['GET'])
  })
}
