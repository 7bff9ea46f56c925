import { Client, Connection } from '@temporalio/client'
import type { Env } from '#config/env.ts'

/** Where the Temporal frontend listens when `TEMPORAL_ADDRESS` is not set (the dev server's default). */
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233'

export interface TemporalClientHandle {
  client: Client
  connection: Connection
  address: string
  close: () => Promise<void>
}

/**
 * One Temporal client per process (web, bot, CLI), built from the environment. The connection is lazy about
 * nothing: it fails here, with the address in the message, when no server answers.
 */
export async function createTemporalClient(env: Pick<Env, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE'>): Promise<TemporalClientHandle> {
  const address = env.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS
  let connection: Connection
  try {
    connection = await Connection.connect({ address, connectTimeout: '10s' })
  } catch (error) {
    throw new Error(`Cannot reach the Temporal server at ${address}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }
  const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE })
  return { client, connection, address, close: () => connection.close() }
}
