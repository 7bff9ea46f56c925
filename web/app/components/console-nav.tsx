import { NavLink } from '@remix-run/react'
import { useI18n } from '~/utils/root-data.ts'

export interface NavItem {
  to: string
  label: string
  count?: number
  end?: boolean
}

/**
 * The side navigation of a console (admin, agent, customer). Phones get it folded in a <details> above the
 * page; wider screens a plain list beside it. Both are rendered; CSS shows one.
 */
export function ConsoleNav({ items }: { items: NavItem[] }) {
  const { t, fmt } = useI18n()
  const total = items.reduce((sum, item) => sum + (item.count ?? 0), 0)
  const list = (
    <ul>
      {items.map((item) => (
        <li key={item.to}>
          <NavLink to={item.to} end={item.end} prefetch="intent">
            {item.label}
            {item.count ? <span className="count">{fmt.number(item.count)}</span> : null}
          </NavLink>
        </li>
      ))}
    </ul>
  )
  return (
    <nav className="console-nav" aria-label={t.nav.menu}>
      <details className="nav-folded">
        <summary>
          {t.nav.menu}
          {total ? <span className="count">{fmt.number(total)}</span> : null}
        </summary>
        {list}
      </details>
      <div className="nav-wide">{list}</div>
    </nav>
  )
}
