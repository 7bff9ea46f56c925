import { data, type LinksFunction, type LoaderFunctionArgs, type MetaFunction } from '@remix-run/node'
import { Links, Meta, Outlet, Scripts, ScrollRestoration, useLocation } from '@remix-run/react'
import type { ReactNode } from 'react'
import { GeneralErrorBoundary } from '~/components/error-boundary.tsx'
import { SiteHeader } from '~/components/site-header.tsx'
import appCss from '~/styles/app.css?url'
import { getAuth } from '~/utils/auth.server.ts'
import { issueCsrfToken } from '~/utils/csrf.server.ts'
import { resolvePrefs } from '~/utils/request.server.ts'
import { useRootData, type RootData } from '~/utils/root-data.ts'

export const links: LinksFunction = () => [
  { rel: 'stylesheet', href: appCss },
  { rel: 'icon', href: 'data:image/svg+xml,<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="%234f8cff"/></svg>' },
]

export const meta: MetaFunction = () => [{ title: 'flowpanel' }]

export async function loader({ request, context }: LoaderFunctionArgs) {
  const auth = await getAuth(request, context)
  // A session still waiting for its two-step code shows the page as signed out.
  const user = auth.user && (!auth.user.totpEnabled || auth.user.twoFactorVerified) ? auth.user : null
  const { locale, theme } = resolvePrefs(request, context, user)
  const csrf = issueCsrfToken(request, context.env)
  const rootData: RootData = {
    locale,
    theme,
    currency: context.env.CURRENCY,
    csrfToken: csrf.token,
    user: user && { id: user.id, username: user.username, role: user.role, displayName: user.displayName, totpEnabled: user.totpEnabled },
  }
  const headers = new Headers()
  if (csrf.setCookie) headers.append('Set-Cookie', csrf.setCookie)
  if (auth.setCookie) headers.append('Set-Cookie', auth.setCookie)
  return data(rootData, { headers })
}

export function Layout({ children }: { children: ReactNode }) {
  const root = useRootData()
  const locale = root?.locale ?? 'fa'
  const theme = root?.theme ?? 'dark'
  return (
    <html lang={locale} dir={locale === 'fa' ? 'rtl' : 'ltr'} data-theme={theme}>
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content={theme} />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  )
}

export default function App() {
  const location = useLocation()
  return (
    <>
      <SiteHeader currentPath={location.pathname + location.search} />
      <main id="main" className="site-main">
        <Outlet />
      </main>
    </>
  )
}

export function ErrorBoundary() {
  return (
    <>
      <SiteHeader currentPath="/" />
      <main id="main" className="site-main">
        <GeneralErrorBoundary />
      </main>
    </>
  )
}
