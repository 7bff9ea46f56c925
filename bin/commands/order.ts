import { WorkflowFailedError } from '@temporalio/client'
import { getOrderView, OrderRefusedError, placeOrder } from '#db/orders.ts'
import type { OrderResult } from '#temporal/messages.ts'
import { optionalFlag, requireFlag, UsageError, type Command } from '../cli.ts'
import { withCliDatabase } from './db.ts'
import { positiveId, resolveUser, withCliTemporal } from './workflows.ts'

const create: Command = {
  name: ['order', 'create'],
  usage: 'order create --user USER --plan PLAN_ID [--location CODE] [--pay wallet|receipt] [--renew ACCOUNT_ID] [--key IDEMPOTENCY_KEY] [--wait]',
  summary: 'Place an order (the same path as the web app); --wait prints the subscription link when delivered',
  async run({ flags, out }) {
    const userRef = requireFlag(flags, 'user')
    const planId = positiveId(requireFlag(flags, 'plan'), '--plan')
    const pay = optionalFlag(flags, 'pay') ?? 'wallet'
    if (pay !== 'wallet' && pay !== 'receipt') throw new UsageError('--pay must be wallet or receipt')
    const renewRaw = optionalFlag(flags, 'renew')
    const accountId = renewRaw === undefined ? undefined : positiveId(renewRaw, '--renew')
    const locationCode = optionalFlag(flags, 'location')
    return withCliDatabase(flags, 'order create', async (db) => {
      const user = await resolveUser(db, userRef)
      let locationId: number | undefined
      if (accountId === undefined) {
        if (locationCode !== undefined) {
          const location = await db('locations').where({ code: locationCode }).first('id')
          if (!location) throw new UsageError(`--location: no location "${locationCode}"`)
          locationId = location.id
        } else {
          const only = await db('planLocations').where({ planId }).select('locationId')
          if (only.length !== 1) throw new UsageError('--location is needed: the plan is sold in several locations (or none)')
          locationId = only[0].locationId
        }
      }
      return withCliTemporal(async (client) => {
        let placed
        try {
          placed = await placeOrder(db, client, {
            userId: user.id,
            planId,
            locationId,
            payMethod: pay,
            kind: accountId === undefined ? 'new' : 'renew',
            accountId,
            idempotencyKey: optionalFlag(flags, 'key'),
          })
        } catch (error) {
          if (error instanceof OrderRefusedError) {
            process.stderr.write(`order refused: ${error.message}\n`)
            return 1
          }
          throw error
        }
        out(`order #${placed.order.id} ${placed.created ? 'placed' : 'already exists'} (${placed.workflowId}), price ${placed.order.price}`)
        if (!flags.wait) return 0
        try {
          const result = await client.workflow.getHandle<() => Promise<OrderResult>>(placed.workflowId).result()
          if (result.outcome === 'cancelled') {
            process.stderr.write(`order #${result.orderId} was cancelled: ${result.reason ?? ''}\n`)
            return 1
          }
          out(`delivered: ${result.subscriptionUrl ?? '(the panel gave no subscription link)'}`)
          return 0
        } catch (error) {
          if (error instanceof WorkflowFailedError) {
            process.stderr.write(`order #${placed.order.id} failed: ${error.cause?.message ?? error.message}\n`)
            return 1
          }
          throw error
        }
      })
    })
  },
}

const status: Command = {
  name: ['order', 'status'],
  usage: 'order status ORDER_ID',
  summary: "Show an order and its workflow's live step",
  async run({ args, flags, out }) {
    const orderId = positiveId(args[0], 'ORDER_ID')
    return withCliDatabase(flags, 'order status', async (db) =>
      withCliTemporal(async (client) => {
        const view = await getOrderView(db, client, orderId)
        if (!view) {
          out(`order #${orderId} does not exist`)
          return 1
        }
        const { order, live } = view
        out(`order #${order.id}: ${order.status} (${order.kind}, pay by ${order.payMethod}, price ${order.price})`)
        if (order.failureReason) out(`reason: ${order.failureReason}`)
        if (live) {
          out(`step: ${live.step}, attempt ${live.attempt}${live.lastError ? `, last error: ${live.lastError}` : ''}`)
          if (live.paymentId) out(`payment: #${live.paymentId}`)
          if (live.subscriptionUrl) out(`link: ${live.subscriptionUrl}`)
        } else {
          out('workflow: not reachable (Temporal is away or the history was removed)')
        }
        return 0
      }),
    )
  },
}

export const commands: Command[] = [create, status]
