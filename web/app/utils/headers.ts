import type { HeadersFunction } from '@remix-run/node'

/**
 * Route `headers` export that passes an action's or loader's Retry-After on to the document response
 * (Remix keeps only Set-Cookie from `data()` headers on its own).
 */
export const retryAfterHeaders: HeadersFunction = ({ actionHeaders, loaderHeaders, errorHeaders }) => {
  const headers = new Headers()
  const retryAfter = actionHeaders.get('Retry-After') ?? loaderHeaders.get('Retry-After') ?? errorHeaders?.get('Retry-After')
  if (retryAfter) headers.set('Retry-After', retryAfter)
  return headers
}
