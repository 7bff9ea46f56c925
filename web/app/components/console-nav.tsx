import { NavLink } from '@remix-run/react'
import { useI18n } from '~/utils/root-data.ts'

export interface NavItem {
  to: string
  label: string
  count?: number
  end?: boolean
}

/** The side navigation of a console (admin, agent, customer); a collapsible list on phones. */
export function ConsoleNav({ items }: { items: NavItem[] }) {
  const { t, fmt } = useI18n()
  return (
    <nav className="console-nav" aria-label={t.nav.menu}>
      <details open>
        <summary>{t.nav.menu}</summary>
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
      </details>
    </nav>
  )
}
