import type { BusinessMetrics } from '#db/metrics.ts'

/**
 * Prometheus text exposition (format 0.0.4), written by hand: a handful of gauges, one histogram and
 * the HTTP counters of this process do not need a metrics library.
 */

export type Labels = Record<string, string>

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function labelText(labels: Labels | undefined): string {
  if (!labels) return ''
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`)
  return parts.length ? `{${parts.join(',')}}` : ''
}

function num(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

export class MetricsText {
  private lines: string[] = []

  family(name: string, type: 'gauge' | 'counter' | 'histogram', help: string): this {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`)
    return this
  }

  sample(name: string, value: number, labels?: Labels): this {
    this.lines.push(`${name}${labelText(labels)} ${num(value)}`)
    return this
  }

  toString(): string {
    return this.lines.join('\n') + '\n'
  }
}

/** Request counts and durations of this process's HTTP server, by method, route class and status. */
export class HttpMetrics {
  static readonly BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
  private counts = new Map<string, number>()
  private durations = { buckets: HttpMetrics.BUCKETS.map(() => 0), count: 0, sum: 0 }

  observe(method: string, status: number, seconds: number): void {
    const key = `${method}\u0000${Math.floor(status / 100)}xx`
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
    HttpMetrics.BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.durations.buckets[i]!++
    })
    this.durations.count++
    this.durations.sum += seconds
  }

  write(out: MetricsText): void {
    out.family('flowpanel_http_requests_total', 'counter', 'HTTP requests answered by this process, by method and status class.')
    for (const [key, n] of [...this.counts].sort()) {
      const [method, status] = key.split('\u0000') as [string, string]
      out.sample('flowpanel_http_requests_total', n, { method, status })
    }
    out.family('flowpanel_http_request_duration_seconds', 'histogram', 'Time to answer HTTP requests.')
    HttpMetrics.BUCKETS.forEach((le, i) => out.sample('flowpanel_http_request_duration_seconds_bucket', this.durations.buckets[i]!, { le: String(le) }))
    out.sample('flowpanel_http_request_duration_seconds_bucket', this.durations.count, { le: '+Inf' })
    out.sample('flowpanel_http_request_duration_seconds_sum', this.durations.sum)
    out.sample('flowpanel_http_request_duration_seconds_count', this.durations.count)
  }
}

const ORDER_STATUSES = ['pending', 'awaiting_payment', 'provisioning', 'delivered', 'failed', 'cancelled', 'refunded']
const ACCOUNT_STATUSES = ['active', 'disabled', 'limited', 'expired', 'deleted']

export function writeBusinessMetrics(out: MetricsText, m: BusinessMetrics): void {
  out.family('flowpanel_orders', 'gauge', 'Orders by status.')
  for (const status of new Set([...ORDER_STATUSES, ...Object.keys(m.ordersByStatus)])) {
    out.sample('flowpanel_orders', m.ordersByStatus[status] ?? 0, { status })
  }
  out.family('flowpanel_orders_stuck', 'gauge', 'Orders still provisioning past the provisioning deadline (look them up in the admin ops page).')
  out.sample('flowpanel_orders_stuck', m.ordersStuck)
  out.family('flowpanel_provisioning_latency_seconds', 'histogram', 'Time from order creation to delivery, over every delivered order.')
  for (const b of m.provisioning.buckets) out.sample('flowpanel_provisioning_latency_seconds_bucket', b.count, { le: String(b.le) })
  out.sample('flowpanel_provisioning_latency_seconds_bucket', m.provisioning.count, { le: '+Inf' })
  out.sample('flowpanel_provisioning_latency_seconds_sum', m.provisioning.sumSeconds)
  out.sample('flowpanel_provisioning_latency_seconds_count', m.provisioning.count)
  out.family('flowpanel_payments_pending', 'gauge', 'Payments waiting for a decision.')
  out.sample('flowpanel_payments_pending', m.paymentsPending.count)
  out.family('flowpanel_payments_pending_amount', 'gauge', 'Total amount of payments waiting for a decision, in minor units of the configured currency.')
  out.sample('flowpanel_payments_pending_amount', Number(m.paymentsPending.amount))
  out.family('flowpanel_agents_negative_credit', 'gauge', 'Agents whose usable credit is below zero.')
  out.sample('flowpanel_agents_negative_credit', m.agentsNegative)
  out.family('flowpanel_accounts', 'gauge', 'VPN accounts by status.')
  for (const status of new Set([...ACCOUNT_STATUSES, ...Object.keys(m.accountsByStatus)])) {
    out.sample('flowpanel_accounts', m.accountsByStatus[status] ?? 0, { status })
  }
}

/** Workflow executions by status as Temporal's visibility counts them (within the namespace's retention). */
export function writeWorkflowMetrics(out: MetricsText, byStatus: Record<string, number>): void {
  out.family('flowpanel_workflow_executions', 'gauge', 'Workflow executions in the namespace by status (Temporal visibility, within retention).')
  for (const [status, n] of Object.entries(byStatus).sort()) out.sample('flowpanel_workflow_executions', n, { status })
  out.family('flowpanel_workflow_failures', 'gauge', 'Workflow executions that failed or timed out (within retention).')
  out.sample('flowpanel_workflow_failures', (byStatus.Failed ?? 0) + (byStatus.TimedOut ?? 0))
}

export function writeProcessMetrics(out: MetricsText, startedAt: Date): void {
  const mem = process.memoryUsage()
  out.family('process_resident_memory_bytes', 'gauge', 'Resident memory of this process.')
  out.sample('process_resident_memory_bytes', mem.rss)
  out.family('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.')
  out.sample('nodejs_heap_used_bytes', mem.heapUsed)
  out.family('process_start_time_seconds', 'gauge', 'Start time of this process, seconds since the epoch.')
  out.sample('process_start_time_seconds', Math.floor(startedAt.getTime() / 1000))
}
