import { Client, Connection } from '@temporalio/client'
import { createDb } from '#db/knex.ts'
import { placeOrder } from '#db/orders.ts'

/**
 * Places one wallet order and kills its own process (SIGKILL) after the order row is committed and before the
 * workflow is started: the crash the reconciler exists for. Arguments: userId planId locationId idempotencyKey.
 * Environment: DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE.
 */
const [userId, planId, locationId, idempotencyKey] = process.argv.slice(2)
const db = createDb(process.env.DATABASE_URL!)
const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! })
const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' })
await placeOrder(
  db,
  client,
  { userId: Number(userId), planId: Number(planId), locationId: Number(locationId), idempotencyKey },
  {
    afterCommit: () => {
      process.kill(process.pid, 'SIGKILL')
    },
  },
)
process.stderr.write('the order was placed and its workflow started: the process should have died before\n')
process.exit(3)
