import type { LoaderFunctionArgs } from '@remix-run/node'
import { openApiDocument } from '~/utils/openapi.server.ts'

/** GET /api/v1/openapi.json: public, so tools can read it before anyone has a token. */
export function loader({ context }: LoaderFunctionArgs) {
  return Response.json(openApiDocument(new URL('/api/v1', context.env.PUBLIC_URL).toString()), { headers: { 'Cache-Control': 'public, max-age=300' } })
}
