import type { ActionFunctionArgs, LoaderFunctionArgs } from '@remix-run/node'
import { ApiError, apiErrorResponse } from '~/utils/api-auth.server.ts'

/** Anything under /api/v1 that is not an endpoint: a JSON 404, never the HTML error page. */
function notFound(request: Request): Response {
  return apiErrorResponse(new ApiError(404, 'NOT_FOUND', `No endpoint ${request.method} ${new URL(request.url).pathname}; see /api/v1/openapi.json`))
}

export function loader({ request }: LoaderFunctionArgs) {
  return notFound(request)
}

export function action({ request }: ActionFunctionArgs) {
  return notFound(request)
}
