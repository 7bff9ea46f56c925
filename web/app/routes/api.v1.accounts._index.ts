import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { ACCOUNT_FILTERS, listAccountsOfUser, type AccountFilter } from '#db/shop.ts'
import { parsePage } from '#domain/ids.ts'
import { findTextProblem, TEXT_PROBLEM_MESSAGES } from '#domain/text.ts'
import { ApiError, apiHandler, apiJson, methodNotAllowed } from '~/utils/api-auth.server.ts'
import { accountJson } from '~/utils/reseller-api.server.ts'

/** GET /api/v1/accounts: the agent's accounts, newest first (`?status=active|disabled|limited|expired|deleted|all`, `?q=`, `?page=`). */
export function loader({ request, context }: LoaderFunctionArgs) {
  return apiHandler(request, context, async (agent) => {
    const url = new URL(request.url)
    const status = url.searchParams.get('status') ?? 'all'
    if (!(ACCOUNT_FILTERS as readonly string[]).includes(status)) throw new ApiError(422, 'INVALID_INPUT', `status must be one of ${ACCOUNT_FILTERS.join(', ')}`)
    const q = url.searchParams.get('q') ?? undefined
    const problem = q === undefined ? null : findTextProblem(q, 'singleLine')
    if (problem) throw new ApiError(422, 'INVALID_INPUT', `q ${TEXT_PROBLEM_MESSAGES[problem]}`, {}, { fields: [{ field: 'q', message: TEXT_PROBLEM_MESSAGES[problem] }] })
    const page = parsePage(url.searchParams.get('page'))
    const accounts = await listAccountsOfUser(context.db, agent.userId, { status: status as AccountFilter, search: q?.slice(0, 100), page, pageSize: 100 })
    return apiJson({ accounts: accounts.rows.map(accountJson), page: accounts.page, hasMore: accounts.hasMore })
  })
}

export function action({ request, context }: ActionFunctionArgs) {
  return apiHandler(request, context, async () => {
    throw methodNotAllowed(['GET'])
  })
}
