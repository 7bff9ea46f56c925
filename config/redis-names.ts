import type { Env } from './env.ts'

/**
 * The one place Redis names are made. Every key and every pub/sub channel of an installation starts with its
 * REDIS_PREFIX, so installations sharing a Redis never see each other's status, rate limits, sessions or panel
 * logins. Build names here rather than with ioredis' `keyPrefix`: that option applies to keys only, never to
 * channels, and a client made without it would quietly share everything.
 */
export interface RedisNames {
  /** The installation's prefix with its separator, e.g. `flowpanel:shop:1a2b3c4d:`. */
  readonly prefix: string
  /** A key: `<prefix>part:part:…`. */
  key(...parts: (string | number)[]): string
  /** A pub/sub channel: named exactly like a key, so one prefix covers both. */
  channel(...parts: (string | number)[]): string
  /** A prefix for a component that appends its own key names (bot, panel store, Telegram pacing): ends with `:`. */
  scope(...parts: (string | number)[]): string
}

export function redisNames(env: Pick<Env, 'REDIS_PREFIX'>): RedisNames {
  const prefix = `${env.REDIS_PREFIX}:`
  const join = (parts: (string | number)[]) => prefix + parts.map(String).join(':')
  return {
    prefix,
    key: (...parts) => join(parts),
    channel: (...parts) => join(parts),
    scope: (...parts) => (parts.length === 0 ? prefix : `${join(parts)}:`),
  }
}

/** Channel on which a workflow's live status is published (the web app streams it over SSE). */
export const statusChannel = (env: Pick<Env, 'REDIS_PREFIX'>, workflowId: string) => redisNames(env).channel('status', workflowId)

/** Key holding a workflow's last published status, for pages that open after it was published. */
export const lastStatusKey = (env: Pick<Env, 'REDIS_PREFIX'>, workflowId: string) => redisNames(env).key('status', 'last', workflowId)
