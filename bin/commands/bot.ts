import { Api } from 'grammy'
import { getEnv, type Env } from '#config/env.ts'
import { adminChatIds } from '#db/notifications.ts'
import { BroadcastRefusedError, createLinkCode, getBroadcast, startBroadcast, type BroadcastAudience } from '#db/telegram.ts'
import { broadcastStatusQuery, type BroadcastResult } from '#workflows/broadcast/messages.ts'
import { broadcastWorkflowId } from '#temporal/workflow-ids.ts'
import { registerCommands } from '../../bot/commands.ts'
import { getErrorMessage } from '../../bot/logger.ts'
import { isValidWebhookSecret, WEBHOOK_PATH } from '../../bot/webhook.ts'
import { optionalFlag, requireFlag, UsageError, type Command } from '../cli.ts'
import { withCliDatabase } from './db.ts'
import { positiveId, resolveAdmin, resolveUser, withCliTemporal } from './workflows.ts'

function botApi(env: Env): Api {
  if (!env.TELEGRAM_BOT_TOKEN) throw new UsageError('TELEGRAM_BOT_TOKEN is not set')
  return new Api(env.TELEGRAM_BOT_TOKEN, { apiRoot: env.TELEGRAM_API_ROOT })
}

const linkCode: Command = {
  name: ['bot', 'link-code'],
  usage: 'bot link-code --user USER',
  summary: 'Make a one-time code that links a Telegram account to USER (send `/link CODE` to the bot within 15 minutes)',
  async run({ flags, out }) {
    const ref = requireFlag(flags, 'user')
    return withCliDatabase(flags, 'bot link-code', async (db) => {
      const user = await resolveUser(db, ref)
      const { code, expiresAt } = await createLinkCode(db, user.id)
      out(`link code for ${user.username}: ${code} (valid until ${expiresAt.toISOString()}); in the bot: /link ${code}`)
      return 0
    })
  },
}

const AUDIENCES: BroadcastAudience[] = ['customers', 'agents', 'all']

const broadcast: Command = {
  name: ['bot', 'broadcast'],
  usage: 'bot broadcast --text TEXT [--audience customers|agents|all] [--admin ADMIN] [--wait]',
  summary: 'Send a message to everyone in the audience who linked Telegram, paced under Telegram limits (a workflow)',
  async run({ flags, out }) {
    const text = requireFlag(flags, 'text')
    const audience = (optionalFlag(flags, 'audience') ?? 'customers') as BroadcastAudience
    if (!AUDIENCES.includes(audience)) throw new UsageError(`--audience must be one of ${AUDIENCES.join(', ')}`)
    return withCliDatabase(flags, 'bot broadcast', async (db) => {
      const admin = await resolveAdmin(db, flags)
      return withCliTemporal(async (client) => {
        let started
        try {
          started = await startBroadcast(db, client, { createdBy: admin.id, text, audience })
        } catch (error) {
          if (error instanceof BroadcastRefusedError) {
            process.stderr.write(`broadcast refused: ${error.message}\n`)
            return 1
          }
          throw error
        }
        out(`broadcast #${started.broadcast.id} started (${started.workflowId}): ${started.recipients} recipient(s)`)
        if (flags.wait !== true) return 0
        const result = await client.workflow.getHandle<() => Promise<BroadcastResult>>(started.workflowId).result()
        out(`broadcast #${result.broadcastId} finished: ${result.delivered} delivered, ${result.failed} failed, of ${result.total}`)
        return 0
      })
    })
  },
}

const broadcastStatus: Command = {
  name: ['bot', 'broadcast-status'],
  usage: 'bot broadcast-status BROADCAST_ID',
  summary: "A broadcast's progress (live from its workflow while it runs) or its final counts",
  async run({ args, flags, out }) {
    const id = positiveId(args[0], 'BROADCAST_ID')
    return withCliDatabase(flags, 'bot broadcast-status', async (db) => {
      const row = await getBroadcast(db, id)
      if (!row) throw new UsageError(`no broadcast #${id}`)
      if (row.status === 'done') {
        out(`broadcast #${id} done: ${row.delivered} delivered, ${row.failed} failed, of ${row.total}`)
        return 0
      }
      return withCliTemporal(async (client) => {
        const status = await client.workflow.getHandle(broadcastWorkflowId(id)).query(broadcastStatusQuery)
        const c = status.counts
        out(`broadcast #${id} ${status.phase}: ${c.sent} sent, ${c.failed} failed, ${c.pending} to go, of ${c.total} (${status.batches} batch(es))`)
        return 0
      })
    })
  },
}

const webhook: Command = {
  name: ['bot', 'webhook'],
  usage: 'bot webhook set|delete|info',
  summary: 'Point Telegram at PUBLIC_URL/telegram/webhook with TELEGRAM_WEBHOOK_SECRET, remove the webhook (for polling), or show it',
  async run({ args, out }) {
    const env = getEnv()
    const api = botApi(env)
    try {
      if (args[0] === 'set') {
        const secret = env.TELEGRAM_WEBHOOK_SECRET
        if (!secret || !isValidWebhookSecret(secret)) throw new UsageError('TELEGRAM_WEBHOOK_SECRET must be 1–256 characters of A–Z, a–z, 0–9, _ or -')
        const url = new URL(WEBHOOK_PATH, env.PUBLIC_URL).toString()
        await api.setWebhook(url, { secret_token: secret, allowed_updates: ['message', 'callback_query'] })
        out(`webhook set: ${url}`)
        return 0
      }
      if (args[0] === 'delete') {
        await api.deleteWebhook()
        out('webhook deleted; the bot can poll now (npm run bot)')
        return 0
      }
      if (args[0] === 'info') {
        const info = await api.getWebhookInfo()
        out(info.url ? `webhook: ${info.url} (${info.pending_update_count} update(s) waiting)${info.last_error_message ? `; last error: ${info.last_error_message}` : ''}` : `no webhook (long polling); ${info.pending_update_count} update(s) waiting`)
        return 0
      }
    } catch (error) {
      if (error instanceof UsageError) throw error
      process.stderr.write(`Telegram refused: ${getErrorMessage(error)}\n`)
      return 1
    }
    throw new UsageError('say set, delete or info')
  },
}

const commandMenus: Command = {
  name: ['bot', 'commands'],
  usage: 'bot commands',
  summary: 'Register the command menus (Persian, English, and the admin commands in admin chats)',
  async run({ flags, out }) {
    const env = getEnv()
    const api = botApi(env)
    return withCliDatabase(flags, 'bot commands', async (db) => {
      const chats = await adminChatIds(db, env.TELEGRAM_ADMIN_CHAT_IDS)
      await registerCommands(api, chats, env.DEFAULT_LOCALE)
      out(`command menus registered (default ${env.DEFAULT_LOCALE}, ${chats.length} admin chat(s))`)
      return 0
    })
  },
}

export const commands: Command[] = [linkCode, broadcast, broadcastStatus, webhook, commandMenus]
