import { Link, useLocation } from '@remix-run/react'
import { useI18n } from '~/utils/root-data.ts'

export function Pagination({ page, hasMore }: { page: number; hasMore: boolean }) {
  const location = useLocation()
  const { t } = useI18n()
  if (page <= 1 && !hasMore) return null
  const to = (p: number) => {
    const params = new URLSearchParams(location.search)
    params.set('page', String(p))
    return `${location.pathname}?${params.toString()}`
  }
  return (
    <nav className="pagination" aria-label={t.common.page}>
      {page > 1 ? (
        <Link className="btn btn-small" to={to(page - 1)}>
          {t.common.previous}
        </Link>
      ) : null}
      {hasMore ? (
        <Link className="btn btn-small" to={to(page + 1)}>
          {t.common.next}
        </Link>
      ) : null}
    </nav>
  )
}
