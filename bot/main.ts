import { Redis } from 'ioredis'
import { getEnv } from '#config/env.ts'
import { createDb } from '#db/knex.ts'
import { createLogger, getErrorMessage } from './logger.ts'
import { startBotPolling } from './serve.ts'

/** `npm run bot`: the bot by long polling, for development (production receives updates by webhook in the web server). */
async function main(): Promise<void> {
  const env = getEnv()
  const logger = createLogger({ level: env.LOG_LEVEL })
  if (!env.DATABASE_URL) {
    process.stderr.write('flowpanel bot cannot start: DATABASE_URL is required\n')
    process.exit(1)
  }
  if (!env.TELEGRAM_BOT_TOKEN) {
    process.stderr.write('flowpanel bot cannot start: TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)\n')
    process.exit(1)
  }
  const db = createDb(env.DATABASE_URL)
  const redis = new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2 })
  const running = await startBotPolling({ env, db, redis, logger })
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info('bot-stopping', { signal })
    await running.stop()
    await db.destroy()
    redis.disconnect()
    process.exit(0)
  }
  process.once('SIGINT', () => void stop('SIGINT'))
  process.once('SIGTERM', () => void stop('SIGTERM'))
}

main().catch((error: unknown) => {
  process.stderr.write(`flowpanel bot failed to start: ${getErrorMessage(error)}\n`)
  process.exit(1)
})
