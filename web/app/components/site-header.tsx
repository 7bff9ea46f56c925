import { Link } from '@remix-run/react'
import { PostForm } from '~/components/forms.tsx'
import { useI18n, useRootData } from '~/utils/root-data.ts'

const HOME_BY_ROLE = { admin: '/admin', agent: '/agent', customer: '/customer' } as const

export function SiteHeader({ currentPath }: { currentPath: string }) {
  const root = useRootData()
  const { t, locale } = useI18n()
  const user = root?.user ?? null
  const theme = root?.theme ?? 'dark'
  return (
    <header className="site-header">
      <a href="#main" className="skip-link">
        {t.common.skipToContent}
      </a>
      <Link to={user ? HOME_BY_ROLE[user.role] : '/'} className="brand">
        {t.meta.appName}
      </Link>
      <div className="header-tools">
        <PostForm action="/preferences" className="inline-form" preventScrollReset>
          <input type="hidden" name="locale" value={locale === 'fa' ? 'en' : 'fa'} />
          <input type="hidden" name="redirectTo" value={currentPath} />
          <button type="submit" className="btn btn-ghost" lang={locale === 'fa' ? 'en' : 'fa'} data-testid="switch-language">
            {locale === 'fa' ? 'English' : 'فارسی'}
          </button>
        </PostForm>
        <PostForm action="/preferences" className="inline-form" preventScrollReset>
          <input type="hidden" name="theme" value={theme === 'dark' ? 'light' : 'dark'} />
          <input type="hidden" name="redirectTo" value={currentPath} />
          <button type="submit" className="btn btn-ghost" data-testid="switch-theme" aria-label={t.common.theme}>
            {theme === 'dark' ? `☀ ${t.common.switchToLight}` : `☾ ${t.common.switchToDark}`}
          </button>
        </PostForm>
        {user ? (
          <>
            <Link to="/settings" className="btn btn-ghost" title={t.nav.signedInAs(user.username)}>
              <bdi>{user.displayName ?? user.username}</bdi>
            </Link>
            <PostForm action="/logout" className="inline-form">
              <button type="submit" className="btn btn-ghost" data-testid="sign-out">
                {t.nav.signOut}
              </button>
            </PostForm>
          </>
        ) : (
          <Link to="/login" className="btn btn-ghost">
            {t.nav.signIn}
          </Link>
        )}
      </div>
    </header>
  )
}
