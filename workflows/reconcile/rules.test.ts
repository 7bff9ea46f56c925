import { describe, expect, it } from 'vitest'
import { decideReconcile, describeFound, MAX_RESTARTS, type LostWork } from './rules.ts'

const lost = (over: Partial<LostWork> & Pick<LostWork, 'kind'>): LostWork => ({
  id: 7,
  workflowId: `${over.kind}-7`,
  rowStatus: 'pending',
  workflow: { state: 'missing', failureType: null, failure: null },
  result: null,
  restarts: 0,
  ledger: {},
  ...over,
})
const terminated = { state: 'terminated' as const, failureType: null, failure: 'stopped by hand' }

describe('decideReconcile', () => {
  it('starts again the workflow of every kind of work that has none, or whose workflow ended without finishing', () => {
    for (const kind of ['order', 'payment', 'refund', 'broadcast'] as const) {
      expect(decideReconcile(lost({ kind }))).toEqual({ action: 'restart', why: 'no workflow' })
      expect(decideReconcile(lost({ kind, workflow: terminated }))).toEqual({ action: 'restart', why: 'workflow terminated: stopped by hand' })
    }
    expect(decideReconcile(lost({ kind: 'order', workflow: { state: 'timed_out', failureType: null, failure: null } }))).toMatchObject({ action: 'restart', why: 'workflow timed out' })
  })

  it('settles from the result a workflow completed with when only the row write was lost', () => {
    const completed = { state: 'completed' as const, failureType: null, failure: null }
    expect(decideReconcile(lost({ kind: 'order', workflow: completed, result: { kind: 'order', outcome: 'delivered', accountId: 3, reason: null } }))).toMatchObject({ action: 'settle', outcome: 'delivered' })
    expect(decideReconcile(lost({ kind: 'payment', workflow: completed, result: { kind: 'payment', status: 'REJECTED' } }))).toMatchObject({ action: 'settle', outcome: 'REJECTED' })
    expect(decideReconcile(lost({ kind: 'refund', workflow: completed, result: { kind: 'refund', amount: '0' } }))).toMatchObject({ action: 'settle', outcome: 'done' })
    expect(decideReconcile(lost({ kind: 'broadcast', workflow: completed }))).toMatchObject({ action: 'settle', outcome: 'done' })
  })

  it('marks failed an order its workflow failed (after compensating), and never restarts it', () => {
    const failed = { state: 'failed' as const, failureType: 'OrderFailed', failure: 'Payment #4 was rejected' }
    expect(decideReconcile(lost({ kind: 'order', workflow: failed }))).toEqual({ action: 'settle', outcome: 'failed', why: 'Payment #4 was rejected' })
    // A workflow that failed for another reason (a bug, a missing row) is started again.
    expect(decideReconcile(lost({ kind: 'order', workflow: { ...failed, failureType: 'TypeError' } })).action).toBe('restart')
  })

  it('settles a payment from the decision the ledger holds, whatever became of its workflow', () => {
    expect(decideReconcile(lost({ kind: 'payment', workflow: terminated, ledger: { paymentSettledAs: 'APPROVED' } }))).toMatchObject({ action: 'settle', outcome: 'APPROVED' })
    expect(decideReconcile(lost({ kind: 'payment', ledger: { paymentSettledAs: null } })).action).toBe('restart')
  })

  it('closes a refund whose money went back already instead of quoting it again, and fails one its workflow refused', () => {
    expect(decideReconcile(lost({ kind: 'refund', workflow: terminated, ledger: { refunded: '90000' } }))).toMatchObject({ action: 'settle', outcome: 'done' })
    expect(decideReconcile(lost({ kind: 'refund', workflow: terminated, ledger: { refunded: '0' } })).action).toBe('restart')
    const refused = { state: 'failed' as const, failureType: 'InvalidRefundInput', failure: 'the reason has control characters' }
    expect(decideReconcile(lost({ kind: 'refund', workflow: refused }))).toEqual({ action: 'settle', outcome: 'failed', why: 'the reason has control characters' })
  })

  it(`gives up after ${MAX_RESTARTS} restarts: the order fails (and is refunded), the payment expires, the refund fails, the broadcast is cancelled`, () => {
    const tired = { workflow: terminated, restarts: MAX_RESTARTS }
    expect(decideReconcile(lost({ kind: 'order', ...tired }))).toEqual({ action: 'settle', outcome: 'failed', why: `workflow terminated: stopped by hand, after ${MAX_RESTARTS} restarts` })
    expect(decideReconcile(lost({ kind: 'payment', ...tired }))).toMatchObject({ action: 'settle', outcome: 'EXPIRED' })
    expect(decideReconcile(lost({ kind: 'refund', ...tired }))).toMatchObject({ action: 'settle', outcome: 'failed' })
    expect(decideReconcile(lost({ kind: 'broadcast', ...tired }))).toMatchObject({ action: 'settle', outcome: 'cancelled' })
    expect(decideReconcile(lost({ kind: 'order', ...tired, restarts: MAX_RESTARTS - 1 })).action).toBe('restart')
  })

  it('describes how the workflow was found in a few words', () => {
    expect(describeFound({ state: 'missing', failureType: null, failure: null })).toBe('no workflow')
    expect(describeFound({ state: 'cancelled', failureType: null, failure: null })).toBe('workflow cancelled')
  })
})
