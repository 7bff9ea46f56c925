import { Link } from '@remix-run/react'
import type { OrderStatus } from '#db/models.ts'
import { Card, StatusBadge } from '~/components/page.tsx'
import { useI18n } from '~/utils/root-data.ts'

export interface OpenOrderLine {
  id: number
  status: OrderStatus
  planNameFa: string
  planNameEn: string
}

/** The buyer's orders still on their way (pending, awaiting payment, provisioning), each linking to its live page. */
export function OpenOrdersCard({ orders, orderPath }: { orders: OpenOrderLine[]; orderPath: (id: number) => string }) {
  const { t, fmt, locale } = useI18n()
  if (orders.length === 0) return null
  return (
    <Card title={t.shop.dashboard.openOrders}>
      <ul className="plain-list">
        {orders.map((o) => (
          <li key={o.id}>
            <Link to={orderPath(o.id)}>
              #{fmt.number(o.id)} · {locale === 'fa' ? o.planNameFa : o.planNameEn}
            </Link>{' '}
            <StatusBadge status={o.status} label={t.orders.statuses[o.status]} />
          </li>
        ))}
      </ul>
    </Card>
  )
}
