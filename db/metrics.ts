import type { Db } from './knex.ts'

/** Upper bounds (seconds) of the provisioning-latency histogram: 5 s … 1 h. */
export const PROVISIONING_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1800, 3600] as const

export interface BusinessMetrics {
  ordersByStatus: Record<string, number>
  /** Cumulative counts of delivered orders whose created → delivered time is <= each bucket. */
  provisioning: { buckets: { le: number; count: number }[]; count: number; sumSeconds: number }
  paymentsPending: { count: number; amount: string }
  /** Orders that are still provisioning and were created more than `stuckAfterSeconds` ago. */
  ordersStuck: number
  agentsNegative: number
  accountsByStatus: Record<string, number>
}

/**
 * What /metrics reports about the business, read from Postgres at scrape time. Every query is an
 * aggregate over indexed columns; the histogram covers every delivered order (delivery happens once,
 * so the counts only grow, as Prometheus expects of a histogram).
 */
export async function readBusinessMetrics(db: Db, options: { stuckAfterSeconds: number }): Promise<BusinessMetrics> {
  const bucketSql = PROVISIONING_BUCKETS.map((s, i) => `count(*) filter (where extract(epoch from delivered_at - created_at) <= ${s}) as "b${i}"`).join(', ')
  const [orders, latency, payments, stuck, negative, accounts] = await Promise.all([
    db.raw(`select status, count(*)::int as n from orders group by status`),
    db.raw(
      `select ${bucketSql}, count(*)::int as "count", coalesce(sum(extract(epoch from delivered_at - created_at)), 0)::float8 as "sum"
         from orders where delivered_at is not null`,
    ),
    db.raw(`select count(*)::int as "count", coalesce(sum(amount), 0)::text as "amount" from payments where status = 'PENDING'`),
    db.raw(`select count(*)::int as n from orders where status = 'provisioning' and created_at < now() - make_interval(secs => ?)`, [options.stuckAfterSeconds]),
    db.raw(`select count(*)::int as n from wallets where negative_since is not null`),
    db.raw(`select status, count(*)::int as n from accounts group by status`),
  ])
  const l = latency.rows[0] as Record<string, string | number>
  return {
    ordersByStatus: Object.fromEntries((orders.rows as { status: string; n: number }[]).map((r) => [r.status, r.n])),
    provisioning: {
      buckets: PROVISIONING_BUCKETS.map((le, i) => ({ le, count: Number(l[`b${i}`]) })),
      count: Number(l.count),
      sumSeconds: Number(l.sum),
    },
    paymentsPending: { count: payments.rows[0].count, amount: payments.rows[0].amount },
    ordersStuck: stuck.rows[0].n,
    agentsNegative: negative.rows[0].n,
    accountsByStatus: Object.fromEntries((accounts.rows as { status: string; n: number }[]).map((r) => [r.status, r.n])),
  }
}
