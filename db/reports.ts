import type { Readable } from 'node:stream'
import type { Db } from './knex.ts'

/**
 * Read-only queries behind the Excel reports. Each returns a row stream (a server-side cursor through
 * pg-query-stream), so an export of any size holds only a batch of rows in memory. Aliases are
 * quoted camelCase; int8 values (money, bytes, counts) arrive as decimal strings.
 */

export interface ReportWindow {
  /** First instant included. */
  from: Date
  /** First instant excluded. */
  until: Date
}

export interface OrderReportRow {
  id: number
  createdAt: Date
  username: string
  role: string
  agentName: string | null
  shopName: string | null
  planFa: string
  planEn: string
  location: string | null
  panel: string | null
  kind: string
  payMethod: string
  price: string
  status: string
  deliveredAt: Date | null
  failureReason: string | null
  workflowId: string | null
}

export interface PaymentReportRow {
  id: number
  createdAt: Date
  username: string
  role: string
  methodKind: string
  methodFa: string
  methodEn: string
  amount: string
  status: string
  decidedBy: string | null
  decidedAt: Date | null
  orderId: number | null
  gatewayRefId: string | null
  note: string | null
}

export interface LedgerReportRow {
  id: string
  createdAt: Date
  username: string
  role: string
  type: string
  confirmedDelta: string
  pendingDelta: string
  confirmedBefore: string
  confirmedAfter: string
  pendingBefore: string
  pendingAfter: string
  reference: string | null
  actor: string | null
  note: string | null
}

export interface AgentSummaryRow {
  userId: number
  username: string
  agentName: string
  shopName: string | null
  phone: string | null
  ordersDelivered: string
  sales: string
  refunds: string
  chargesApproved: string
  confirmed: string
  pending: string
  usable: string
  negativeSince: Date | null
  activeAccounts: string
}

export interface AccountReportRow {
  id: number
  createdAt: Date
  username: string
  role: string
  planFa: string
  planEn: string
  panel: string
  panelUsername: string
  status: string
  disabledReason: string | null
  expiresAt: Date | null
  dataLimitBytes: string
  dataUsedBytes: string
  usageSyncedAt: Date | null
}

export function streamOrders(db: Db, w: ReportWindow): Readable {
  return db
    .raw(
      `select o.id, o.created_at as "createdAt", u.username, u.role,
              nullif(trim(coalesce(a.first_name, '') || ' ' || coalesce(a.last_name, '')), '') as "agentName",
              a.shop_name as "shopName", p.name_fa as "planFa", p.name_en as "planEn", l.code as location,
              pn.name as panel, o.kind, o.pay_method as "payMethod", o.price, o.status,
              o.delivered_at as "deliveredAt", o.failure_reason as "failureReason", o.workflow_id as "workflowId"
         from orders o
         join users u on u.id = o.user_id
         left join agents a on a.user_id = o.user_id
         join plans p on p.id = o.plan_id
         left join locations l on l.id = o.location_id
         left join accounts ac on ac.id = coalesce(o.account_id, (select a2.id from accounts a2 where a2.order_id = o.id))
         left join panels pn on pn.id = ac.panel_id
        where o.created_at >= ? and o.created_at < ?
        order by o.created_at, o.id`,
      [w.from, w.until],
    )
    .stream()
}

export function streamPayments(db: Db, w: ReportWindow): Readable {
  return db
    .raw(
      `select pa.id, pa.created_at as "createdAt", u.username, u.role, m.kind as "methodKind",
              m.title_fa as "methodFa", m.title_en as "methodEn", pa.amount, pa.status,
              d.username as "decidedBy", pa.decided_at as "decidedAt", pa.order_id as "orderId",
              pa.gateway_ref_id as "gatewayRefId", pa.note
         from payments pa
         join users u on u.id = pa.user_id
         join payment_methods m on m.id = pa.method_id
         left join users d on d.id = pa.decided_by
        where pa.created_at >= ? and pa.created_at < ?
        order by pa.created_at, pa.id`,
      [w.from, w.until],
    )
    .stream()
}

export function streamLedger(db: Db, w: ReportWindow): Readable {
  return db
    .raw(
      `select le.id, le.created_at as "createdAt", u.username, u.role, le.type,
              le.confirmed_delta as "confirmedDelta", le.pending_delta as "pendingDelta",
              le.confirmed_before as "confirmedBefore", le.confirmed_after as "confirmedAfter",
              le.pending_before as "pendingBefore", le.pending_after as "pendingAfter",
              case when le.reference_type is null then null
                   else le.reference_type || coalesce(':' || le.reference_id, '') end as reference,
              act.username as actor, le.note
         from ledger_entries le
         join users u on u.id = le.wallet_user_id
         left join users act on act.id = le.actor_user_id
        where le.created_at >= ? and le.created_at < ?
        order by le.id`,
      [w.from, w.until],
    )
    .stream()
}

/**
 * One row per agent. Sales, refunds and approved charges are ledger sums inside the window (sales are
 * ORDER_DEBIT entries as a positive amount, whichever balance they came from); balances, negative-since
 * and active accounts are as they are now.
 */
export function streamAgentSummary(db: Db, w: ReportWindow): Readable {
  return db
    .raw(
      `select u.id as "userId", u.username,
              trim(a.first_name || ' ' || a.last_name) as "agentName", a.shop_name as "shopName", a.phone,
              coalesce(o.delivered, 0) as "ordersDelivered",
              coalesce(l.sales, 0) as sales, coalesce(l.refunds, 0) as refunds,
              coalesce(l.charges_approved, 0) as "chargesApproved",
              wa.confirmed, wa.pending, wa.confirmed + wa.pending as usable,
              wa.negative_since as "negativeSince",
              coalesce(ac.active, 0) as "activeAccounts"
         from users u
         join agents a on a.user_id = u.id
         join wallets wa on wa.user_id = u.id
         left join lateral (
           select sum(-(le.confirmed_delta + le.pending_delta)) filter (where le.type = 'ORDER_DEBIT') as sales,
                  sum(le.confirmed_delta + le.pending_delta) filter (where le.type = 'ORDER_REFUND') as refunds,
                  sum(le.confirmed_delta) filter (where le.type = 'CHARGE_APPROVED') as charges_approved
             from ledger_entries le
            where le.wallet_user_id = u.id and le.created_at >= ? and le.created_at < ?
         ) l on true
         left join lateral (
           select count(*) as delivered from orders o2
            where o2.user_id = u.id and o2.status = 'delivered' and o2.created_at >= ? and o2.created_at < ?
         ) o on true
         left join lateral (
           select count(*) as active from accounts ac2 where ac2.user_id = u.id and ac2.status = 'active'
         ) ac on true
        where u.role = 'agent'
        order by u.id`,
      [w.from, w.until, w.from, w.until],
    )
    .stream()
}

export function streamAccounts(db: Db, w: ReportWindow): Readable {
  return db
    .raw(
      `select ac.id, ac.created_at as "createdAt", u.username, u.role, p.name_fa as "planFa", p.name_en as "planEn",
              pn.name as panel, ac.panel_username as "panelUsername", ac.status, ac.disabled_reason as "disabledReason",
              ac.expires_at as "expiresAt", ac.data_limit_bytes as "dataLimitBytes", ac.data_used_bytes as "dataUsedBytes",
              ac.usage_synced_at as "usageSyncedAt"
         from accounts ac
         join users u on u.id = ac.user_id
         join plans p on p.id = ac.plan_id
         join panels pn on pn.id = ac.panel_id
        where ac.created_at >= ? and ac.created_at < ?
        order by ac.created_at, ac.id`,
      [w.from, w.until],
    )
    .stream()
}
