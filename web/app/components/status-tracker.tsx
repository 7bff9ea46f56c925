import { useRevalidator } from '@remix-run/react'
import { useEffect, useRef, useState } from 'react'
import { useI18n } from '~/utils/root-data.ts'

export type LiveKind = 'order' | 'payment' | 'refund'

/** The live state of an order or payment, as the status routes send it (see utils/live-status.server.ts). */
export interface LiveStatus {
  kind: LiveKind
  id: number
  /**
   * Order: queued, awaiting_payment, paying, provisioning, delivering, delivered, compensating, refunded, failed,
   * cancelled. Payment: pending, approved, rejected, expired. Refund (id = account id): quoting, removing, refunding, done, failed.
   */
  step: string
  /** Provisioning attempt, 1-based; 0 before provisioning. */
  attempt: number
  lastError: string | null
  accountId: number | null
  subscriptionUrl: string | null
  paymentId: number | null
  /** Payments: usable credit after the decision, decimal string. */
  balanceAfter: string | null
  /** Refunds: the amount paid back, decimal string. */
  amount: string | null
  final: boolean
}

const POLL_MS = 2000

/**
 * Follows a status: server-sent events from `/status/<kind>/<id>`, or polling of the same URL when the
 * browser has no EventSource or the stream fails. Stops at a final state and reloads the page's data once.
 */
export function useLiveStatus(initial: LiveStatus): LiveStatus {
  const [status, setStatus] = useState(initial)
  const revalidator = useRevalidator()
  const revalidated = useRef(initial.final)
  const url = `/status/${initial.kind}/${initial.id}`

  useEffect(() => {
    // Another order or payment, or reloaded page data that already shows the end, resets the state; other
    // changes of the same one come from the stream.
    setStatus(initial)
  }, [initial.kind, initial.id, initial.final])

  useEffect(() => {
    if (initial.final) return
    let stopped = false
    let source: EventSource | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    const accept = (next: LiveStatus) => {
      if (stopped) return
      setStatus(next)
      if (next.final) stop()
    }
    const stop = () => {
      stopped = true
      source?.close()
      if (timer) clearTimeout(timer)
    }
    const poll = async () => {
      if (stopped) return
      try {
        const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
        if (response.ok) accept((await response.json()) as LiveStatus)
      } catch {
        // Offline for a moment: the next poll tries again.
      }
      if (!stopped) timer = setTimeout(() => void poll(), POLL_MS)
    }
    if (typeof EventSource === 'undefined') {
      void poll()
    } else {
      source = new EventSource(url)
      let failures = 0
      source.addEventListener('status', (event) => {
        failures = 0
        accept(JSON.parse((event as MessageEvent<string>).data) as LiveStatus)
      })
      source.onerror = () => {
        failures++
        // A refused stream (closed) or one that keeps failing: fall back to polling.
        if (source?.readyState === EventSource.CLOSED || failures >= 3) {
          source?.close()
          source = undefined
          void poll()
        }
      }
    }
    return stop
  }, [url, initial.final])

  useEffect(() => {
    if (status.final && !revalidated.current) {
      revalidated.current = true
      revalidator.revalidate()
    }
  }, [status.final, revalidator])

  return status
}

const ORDER_PATH = ['queued', 'awaiting_payment', 'paying', 'provisioning', 'delivered'] as const
const ORDER_INDEX: Record<string, number> = { queued: 0, awaiting_payment: 1, paying: 2, provisioning: 3, delivering: 3, compensating: 3, delivered: 4 }

/**
 * The steps of an order (queued → paying → provisioning (attempt n) → delivered, or how it ended) or of a
 * payment (waiting for approval → approved / rejected / expired), updated live.
 */
export function StatusTracker({ status, payMethod = 'wallet' }: { status: LiveStatus; payMethod?: 'wallet' | 'receipt' | 'zarinpal' }) {
  const { t, fmt } = useI18n()
  const l = t.live
  const label = (step: string): string => {
    if (step === 'awaiting_payment') return payMethod === 'zarinpal' ? l.steps.awaiting_gateway : l.steps.awaiting_approval
    if (step === 'provisioning' && status.attempt > 1) return l.provisioningAttempt(fmt.number(status.attempt))
    return (l.steps as Record<string, string>)[step] ?? step
  }

  if (status.kind === 'refund') {
    return (
      <div className="status-tracker" data-kind="refund" data-step={status.step} aria-live="polite">
        <p className="status-now">
          <span className={`badge badge-${status.step === 'done' ? 'delivered' : status.step}`} data-testid="live-step">
            {(l.refundSteps as Record<string, string>)[status.step] ?? status.step}
          </span>
        </p>
        {status.step === 'done' && status.amount !== null ? <p>{l.refunded(fmt.money(status.amount))}</p> : null}
        {status.lastError ? <p className="muted">{l.lastError(status.lastError)}</p> : null}
      </div>
    )
  }

  if (status.kind === 'payment') {
    return (
      <div className="status-tracker" data-kind="payment" data-step={status.step} aria-live="polite">
        <p className="status-now">
          <span className={`badge badge-${status.step}`} data-testid="live-step">
            {label(status.step)}
          </span>
        </p>
        {status.step === 'approved' && status.balanceAfter !== null ? <p>{l.balanceAfter(fmt.money(status.balanceAfter))}</p> : null}
        {status.step === 'rejected' && status.lastError ? <p className="negative">{status.lastError}</p> : null}
      </div>
    )
  }

  const ended = ['failed', 'cancelled', 'refunded'].includes(status.step)
  const current = ORDER_INDEX[status.step] ?? 0
  const path = ORDER_PATH.filter((s) => s !== 'awaiting_payment' || payMethod !== 'wallet')
  return (
    <div className="status-tracker" data-kind="order" data-step={status.step} aria-live="polite">
      <p className="status-now">
        <span className={`badge badge-${status.step}`} data-testid="live-step">
          {status.step === 'compensating' ? l.steps.compensating : label(status.step)}
        </span>
      </p>
      <ol className="steps">
        {path.map((step) => {
          const index = ORDER_INDEX[step]!
          const state = ended ? (index < current ? 'done' : 'skipped') : index < current || status.step === 'delivered' ? 'done' : index === current ? 'current' : 'todo'
          return (
            <li key={step} className={`step step-${state}`} aria-current={state === 'current' ? 'step' : undefined}>
              {label(step)}
            </li>
          )
        })}
        {ended ? <li className="step step-ended">{label(status.step)}</li> : null}
      </ol>
      {status.lastError && !status.final ? <p className="muted">{l.lastError(status.lastError)}</p> : null}
      {status.lastError && ended ? <p className="negative">{status.lastError}</p> : null}
    </div>
  )
}

/** A StatusTracker that follows the status live from its first state. */
export function LiveStatusTracker({ initial, payMethod }: { initial: LiveStatus; payMethod?: 'wallet' | 'receipt' | 'zarinpal' }) {
  return <StatusTracker status={useLiveStatus(initial)} payMethod={payMethod} />
}
