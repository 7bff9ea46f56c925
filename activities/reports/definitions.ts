import type { AccountReportRow, AgentSummaryRow, LedgerReportRow, OrderReportRow, PaymentReportRow } from '#db/reports.ts'

/**
 * What each report contains: its sheet name, and its columns with headers in both languages, a
 * cell kind (which decides the Excel type and number format) and how to read the value from a row.
 * No I/O here (the rows come from db/reports.ts, wired in workbook.ts), so pages may import it.
 */

export const REPORT_KINDS = ['orders', 'payments', 'ledger', 'agents', 'accounts'] as const
export type ReportKind = (typeof REPORT_KINDS)[number]
export type ReportLocale = 'fa' | 'en'

export function isReportKind(value: string): value is ReportKind {
  return (REPORT_KINDS as readonly string[]).includes(value)
}

/**
 * - `money`: an integer amount (decimal string from Postgres), written as a number with thousands separators
 * - `count`, `id`: integers
 * - `datetime`: a Date; Jalali text in fa, an Excel date in en
 * - `gigabytes`: bytes (decimal string), shown in GB with two decimals; 0 limit means unlimited
 * - `ratio`: a fraction shown as a percentage
 * - `label`: a code shown translated in fa (statuses, kinds, types)
 * - `text`: as is
 */
export type CellKind = 'money' | 'count' | 'id' | 'datetime' | 'gigabytes' | 'limit' | 'ratio' | 'label' | 'text'

export interface Column<Row> {
  key: string
  header: { fa: string; en: string }
  kind: CellKind
  width: number
  value: (row: Row, locale: ReportLocale) => unknown
  /** Sum this column in the totals row. */
  total?: boolean
  /** For money columns: the header gets the currency name appended. */
  currency?: boolean
}

export interface ReportDefinition<Row> {
  kind: ReportKind
  sheet: { fa: string; en: string }
  title: { fa: string; en: string }
  columns: Column<Row>[]
}

const LABELS_FA: Record<string, string> = {
  admin: 'مدیر',
  agent: 'نماینده',
  customer: 'مشتری',
  pending: 'در انتظار',
  awaiting_payment: 'در انتظار پرداخت',
  provisioning: 'در حال ساخت',
  delivered: 'تحویل شده',
  failed: 'ناموفق',
  cancelled: 'لغو شده',
  refunded: 'بازپرداخت شده',
  new: 'جدید',
  renew: 'تمدید',
  extend: 'افزایش',
  wallet: 'کیف پول',
  receipt: 'رسید',
  zarinpal: 'زرین‌پال',
  PENDING: 'در انتظار بررسی',
  APPROVED: 'تأیید شده',
  REJECTED: 'رد شده',
  EXPIRED: 'منقضی',
  CARD: 'کارت به کارت',
  SHEBA: 'شبا',
  CRYPTO: 'رمزارز',
  ZARINPAL: 'زرین‌پال',
  CHARGE_PENDING: 'شارژ در انتظار',
  CHARGE_APPROVED: 'شارژ تأیید شده',
  CHARGE_REJECTED: 'شارژ رد شده',
  CHARGE_EXPIRED: 'شارژ منقضی',
  CHARGE_MANUAL: 'شارژ دستی',
  ORDER_DEBIT: 'برداشت سفارش',
  ORDER_REFUND: 'بازپرداخت سفارش',
  active: 'فعال',
  disabled: 'غیرفعال',
  limited: 'محدود',
  expired: 'منقضی',
  deleted: 'حذف شده',
  negative_credit: 'اعتبار منفی',
}

/** Codes stay as they are in English reports: they are the words the rest of the system uses. */
export function label(code: string | null, locale: ReportLocale): string | null {
  if (code === null) return null
  return locale === 'fa' ? (LABELS_FA[code] ?? code) : code
}

const col = <Row>(c: Column<Row>) => c

const orders: ReportDefinition<OrderReportRow> = {
  kind: 'orders',
  sheet: { fa: 'سفارش‌ها', en: 'Orders' },
  title: { fa: 'گزارش سفارش‌ها', en: 'Orders report' },
  columns: [
    col({ key: 'id', header: { fa: 'شماره', en: 'Order' }, kind: 'id', width: 9, value: (r) => r.id }),
    col({ key: 'createdAt', header: { fa: 'تاریخ', en: 'Created' }, kind: 'datetime', width: 18, value: (r) => r.createdAt }),
    col({ key: 'username', header: { fa: 'کاربر', en: 'User' }, kind: 'text', width: 18, value: (r) => r.username }),
    col({ key: 'role', header: { fa: 'نقش', en: 'Role' }, kind: 'label', width: 10, value: (r) => r.role }),
    col({ key: 'agentName', header: { fa: 'نام نماینده', en: 'Agent name' }, kind: 'text', width: 20, value: (r) => r.agentName }),
    col({ key: 'shopName', header: { fa: 'فروشگاه', en: 'Shop' }, kind: 'text', width: 18, value: (r) => r.shopName }),
    col({ key: 'plan', header: { fa: 'پلن', en: 'Plan' }, kind: 'text', width: 20, value: (r, l) => (l === 'fa' ? r.planFa : r.planEn) }),
    col({ key: 'location', header: { fa: 'موقعیت', en: 'Location' }, kind: 'text', width: 10, value: (r) => r.location }),
    col({ key: 'panel', header: { fa: 'پنل', en: 'Panel' }, kind: 'text', width: 16, value: (r) => r.panel }),
    col({ key: 'kind', header: { fa: 'نوع', en: 'Kind' }, kind: 'label', width: 10, value: (r) => r.kind }),
    col({ key: 'payMethod', header: { fa: 'پرداخت', en: 'Paid by' }, kind: 'label', width: 12, value: (r) => r.payMethod }),
    col({ key: 'price', header: { fa: 'مبلغ', en: 'Price' }, kind: 'money', width: 16, value: (r) => r.price, total: true, currency: true }),
    col({ key: 'status', header: { fa: 'وضعیت', en: 'Status' }, kind: 'label', width: 16, value: (r) => r.status }),
    col({ key: 'deliveredAt', header: { fa: 'تحویل', en: 'Delivered' }, kind: 'datetime', width: 18, value: (r) => r.deliveredAt }),
    col({ key: 'failureReason', header: { fa: 'علت خطا', en: 'Failure' }, kind: 'text', width: 30, value: (r) => r.failureReason }),
    col({ key: 'workflowId', header: { fa: 'شناسه گردش کار', en: 'Workflow id' }, kind: 'text', width: 16, value: (r) => r.workflowId }),
  ],
}

const payments: ReportDefinition<PaymentReportRow> = {
  kind: 'payments',
  sheet: { fa: 'پرداخت‌ها', en: 'Payments' },
  title: { fa: 'گزارش پرداخت‌ها', en: 'Payments report' },
  columns: [
    col({ key: 'id', header: { fa: 'شماره', en: 'Payment' }, kind: 'id', width: 9, value: (r) => r.id }),
    col({ key: 'createdAt', header: { fa: 'تاریخ', en: 'Created' }, kind: 'datetime', width: 18, value: (r) => r.createdAt }),
    col({ key: 'username', header: { fa: 'کاربر', en: 'User' }, kind: 'text', width: 18, value: (r) => r.username }),
    col({ key: 'role', header: { fa: 'نقش', en: 'Role' }, kind: 'label', width: 10, value: (r) => r.role }),
    col({ key: 'methodKind', header: { fa: 'روش', en: 'Method' }, kind: 'label', width: 14, value: (r) => r.methodKind }),
    col({ key: 'methodTitle', header: { fa: 'عنوان روش', en: 'Method title' }, kind: 'text', width: 20, value: (r, l) => (l === 'fa' ? r.methodFa : r.methodEn) }),
    col({ key: 'amount', header: { fa: 'مبلغ', en: 'Amount' }, kind: 'money', width: 16, value: (r) => r.amount, total: true, currency: true }),
    col({ key: 'status', header: { fa: 'وضعیت', en: 'Status' }, kind: 'label', width: 16, value: (r) => r.status }),
    col({ key: 'decidedBy', header: { fa: 'بررسی توسط', en: 'Decided by' }, kind: 'text', width: 16, value: (r) => r.decidedBy }),
    col({ key: 'decidedAt', header: { fa: 'زمان بررسی', en: 'Decided at' }, kind: 'datetime', width: 18, value: (r) => r.decidedAt }),
    col({ key: 'orderId', header: { fa: 'سفارش', en: 'Order' }, kind: 'id', width: 9, value: (r) => r.orderId }),
    col({ key: 'gatewayRefId', header: { fa: 'کد پیگیری', en: 'Gateway ref' }, kind: 'text', width: 16, value: (r) => r.gatewayRefId }),
    col({ key: 'note', header: { fa: 'یادداشت', en: 'Note' }, kind: 'text', width: 30, value: (r) => r.note }),
  ],
}

const ledger: ReportDefinition<LedgerReportRow> = {
  kind: 'ledger',
  sheet: { fa: 'دفتر کل', en: 'Ledger' },
  title: { fa: 'گزارش دفتر کل', en: 'Ledger report' },
  columns: [
    col({ key: 'id', header: { fa: 'شماره', en: 'Entry' }, kind: 'id', width: 10, value: (r) => r.id }),
    col({ key: 'createdAt', header: { fa: 'تاریخ', en: 'Created' }, kind: 'datetime', width: 18, value: (r) => r.createdAt }),
    col({ key: 'username', header: { fa: 'کاربر', en: 'User' }, kind: 'text', width: 18, value: (r) => r.username }),
    col({ key: 'role', header: { fa: 'نقش', en: 'Role' }, kind: 'label', width: 10, value: (r) => r.role }),
    col({ key: 'type', header: { fa: 'نوع', en: 'Type' }, kind: 'label', width: 18, value: (r) => r.type }),
    col({ key: 'confirmedDelta', header: { fa: 'تغییر قطعی', en: 'Confirmed change' }, kind: 'money', width: 16, value: (r) => r.confirmedDelta, total: true, currency: true }),
    col({ key: 'pendingDelta', header: { fa: 'تغییر در انتظار', en: 'Pending change' }, kind: 'money', width: 16, value: (r) => r.pendingDelta, total: true, currency: true }),
    col({ key: 'confirmedBefore', header: { fa: 'قطعی قبل', en: 'Confirmed before' }, kind: 'money', width: 16, value: (r) => r.confirmedBefore }),
    col({ key: 'confirmedAfter', header: { fa: 'قطعی بعد', en: 'Confirmed after' }, kind: 'money', width: 16, value: (r) => r.confirmedAfter }),
    col({ key: 'pendingBefore', header: { fa: 'در انتظار قبل', en: 'Pending before' }, kind: 'money', width: 16, value: (r) => r.pendingBefore }),
    col({ key: 'pendingAfter', header: { fa: 'در انتظار بعد', en: 'Pending after' }, kind: 'money', width: 16, value: (r) => r.pendingAfter }),
    col({ key: 'reference', header: { fa: 'مرجع', en: 'Reference' }, kind: 'text', width: 16, value: (r) => r.reference }),
    col({ key: 'actor', header: { fa: 'انجام‌دهنده', en: 'Actor' }, kind: 'text', width: 14, value: (r) => r.actor }),
    col({ key: 'note', header: { fa: 'یادداشت', en: 'Note' }, kind: 'text', width: 30, value: (r) => r.note }),
  ],
}

const agents: ReportDefinition<AgentSummaryRow> = {
  kind: 'agents',
  sheet: { fa: 'نمایندگان', en: 'Agents' },
  title: { fa: 'خلاصه نمایندگان', en: 'Agents summary' },
  columns: [
    col({ key: 'userId', header: { fa: 'شناسه', en: 'User id' }, kind: 'id', width: 9, value: (r) => r.userId }),
    col({ key: 'username', header: { fa: 'نام کاربری', en: 'Username' }, kind: 'text', width: 18, value: (r) => r.username }),
    col({ key: 'agentName', header: { fa: 'نام', en: 'Name' }, kind: 'text', width: 20, value: (r) => r.agentName }),
    col({ key: 'shopName', header: { fa: 'فروشگاه', en: 'Shop' }, kind: 'text', width: 18, value: (r) => r.shopName }),
    col({ key: 'phone', header: { fa: 'تلفن', en: 'Phone' }, kind: 'text', width: 14, value: (r) => r.phone }),
    col({ key: 'ordersDelivered', header: { fa: 'سفارش تحویل‌شده', en: 'Orders delivered' }, kind: 'count', width: 12, value: (r) => r.ordersDelivered, total: true }),
    col({ key: 'sales', header: { fa: 'فروش', en: 'Sales' }, kind: 'money', width: 16, value: (r) => r.sales, total: true, currency: true }),
    col({ key: 'refunds', header: { fa: 'بازپرداخت', en: 'Refunds' }, kind: 'money', width: 16, value: (r) => r.refunds, total: true, currency: true }),
    col({ key: 'chargesApproved', header: { fa: 'شارژ تأییدشده', en: 'Charges approved' }, kind: 'money', width: 16, value: (r) => r.chargesApproved, total: true, currency: true }),
    col({ key: 'confirmed', header: { fa: 'موجودی قطعی', en: 'Confirmed balance' }, kind: 'money', width: 16, value: (r) => r.confirmed, total: true, currency: true }),
    col({ key: 'pending', header: { fa: 'موجودی در انتظار', en: 'Pending balance' }, kind: 'money', width: 16, value: (r) => r.pending, total: true, currency: true }),
    col({ key: 'usable', header: { fa: 'اعتبار قابل استفاده', en: 'Usable credit' }, kind: 'money', width: 16, value: (r) => r.usable, total: true, currency: true }),
    col({ key: 'negativeSince', header: { fa: 'منفی از', en: 'Negative since' }, kind: 'datetime', width: 18, value: (r) => r.negativeSince }),
    col({ key: 'activeAccounts', header: { fa: 'اکانت فعال', en: 'Active accounts' }, kind: 'count', width: 12, value: (r) => r.activeAccounts, total: true }),
  ],
}

const accounts: ReportDefinition<AccountReportRow> = {
  kind: 'accounts',
  sheet: { fa: 'اکانت‌ها', en: 'Accounts' },
  title: { fa: 'گزارش اکانت‌ها', en: 'Accounts report' },
  columns: [
    col({ key: 'id', header: { fa: 'شماره', en: 'Account' }, kind: 'id', width: 9, value: (r) => r.id }),
    col({ key: 'createdAt', header: { fa: 'تاریخ ساخت', en: 'Created' }, kind: 'datetime', width: 18, value: (r) => r.createdAt }),
    col({ key: 'username', header: { fa: 'مالک', en: 'Owner' }, kind: 'text', width: 18, value: (r) => r.username }),
    col({ key: 'role', header: { fa: 'نقش', en: 'Role' }, kind: 'label', width: 10, value: (r) => r.role }),
    col({ key: 'plan', header: { fa: 'پلن', en: 'Plan' }, kind: 'text', width: 20, value: (r, l) => (l === 'fa' ? r.planFa : r.planEn) }),
    col({ key: 'panel', header: { fa: 'پنل', en: 'Panel' }, kind: 'text', width: 16, value: (r) => r.panel }),
    col({ key: 'panelUsername', header: { fa: 'نام کاربری پنل', en: 'Panel username' }, kind: 'text', width: 20, value: (r) => r.panelUsername }),
    col({ key: 'status', header: { fa: 'وضعیت', en: 'Status' }, kind: 'label', width: 12, value: (r) => r.status }),
    col({ key: 'disabledReason', header: { fa: 'علت غیرفعال شدن', en: 'Disabled because' }, kind: 'label', width: 16, value: (r) => r.disabledReason }),
    col({ key: 'expiresAt', header: { fa: 'انقضا', en: 'Expires' }, kind: 'datetime', width: 18, value: (r) => r.expiresAt }),
    col({ key: 'dataLimit', header: { fa: 'حجم (GB)', en: 'Data limit (GB)' }, kind: 'limit', width: 14, value: (r) => r.dataLimitBytes }),
    col({ key: 'dataUsed', header: { fa: 'مصرف (GB)', en: 'Data used (GB)' }, kind: 'gigabytes', width: 14, value: (r) => r.dataUsedBytes, total: true }),
    col({
      key: 'usage',
      header: { fa: 'درصد مصرف', en: 'Usage' },
      kind: 'ratio',
      width: 10,
      value: (r) => (r.dataLimitBytes === '0' ? null : Number(r.dataUsedBytes) / Number(r.dataLimitBytes)),
    }),
    col({ key: 'usageSyncedAt', header: { fa: 'آخرین همگام‌سازی', en: 'Usage synced' }, kind: 'datetime', width: 18, value: (r) => r.usageSyncedAt }),
  ],
}

// Each definition is typed by its own row; the writer only needs the shape, so the map erases it.
export const REPORTS: Record<ReportKind, ReportDefinition<never>> = {
  orders: orders as ReportDefinition<never>,
  payments: payments as ReportDefinition<never>,
  ledger: ledger as ReportDefinition<never>,
  agents: agents as ReportDefinition<never>,
  accounts: accounts as ReportDefinition<never>,
}
