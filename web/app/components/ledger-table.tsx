import { Link } from '@remix-run/react'
import { useI18n } from '~/utils/root-data.ts'

export interface LedgerLineView {
  id: string
  type: string
  confirmedDelta: string
  pendingDelta: string
  confirmedAfter: string
  pendingAfter: string
  referenceType: string | null
  referenceId: string | null
  note: string | null
  createdAt: string | Date
}

/** A wallet's ledger, newest first: what changed confirmed and pending credit, why, and the balances after. */
export function LedgerTable({ rows, linkBase }: { rows: LedgerLineView[]; linkBase: string }) {
  const { t, fmt } = useI18n()
  const types = t.shop.ledgerTypes as Record<string, string>
  if (rows.length === 0) return <p className="muted">{t.common.empty}</p>
  const delta = (v: string) => (v === '0' ? '—' : <span className={v.startsWith('-') ? 'negative' : 'positive'}>{fmt.money(v)}</span>)
  return (
    <div className="table-wrap">
      <table data-testid="ledger">
        <thead>
          <tr>
            <th>{t.common.date}</th>
            <th>{t.agents.entryType}</th>
            <th>{t.agents.confirmed}</th>
            <th>{t.agents.pending}</th>
            <th>{t.shop.wallet.usableAfter}</th>
            <th>{t.shop.wallet.reference}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} data-type={r.type}>
              <td>{fmt.dateTime(r.createdAt)}</td>
              <td>{types[r.type] ?? r.type}</td>
              <td>{delta(r.confirmedDelta)}</td>
              <td>{delta(r.pendingDelta)}</td>
              <td>{fmt.money(BigInt(r.confirmedAfter) + BigInt(r.pendingAfter))}</td>
              <td>
                {r.referenceType === 'payment' && r.referenceId ? (
                  <Link to={`${linkBase}/payments/${r.referenceId}`}>{t.shop.wallet.paymentRef(fmt.number(r.referenceId))}</Link>
                ) : r.referenceType === 'order' && r.referenceId ? (
                  <Link to={`${linkBase}/orders/${r.referenceId}`}>{t.shop.wallet.orderRef(fmt.number(r.referenceId))}</Link>
                ) : (
                  (r.note ?? '')
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
