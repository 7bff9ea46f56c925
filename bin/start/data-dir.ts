import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'

/**
 * Where the embedded default keeps its state: the Postgres cluster, the generated APP_SECRET and the
 * connection details of the embedded Postgres (so the CLI can reach it while `npm start` runs).
 * FLOWPANEL_DATA_DIR moves it; the default is ./data under the working directory.
 */
export function dataDir(env: Record<string, string | undefined> = process.env): string {
  return path.resolve(env.FLOWPANEL_DATA_DIR ?? 'data')
}

export const EmbeddedPostgresInfoSchema = z.object({
  port: z.number().int().min(1).max(65535),
  user: z.string().min(1),
  password: z.string().min(16),
  database: z.string().regex(/^[A-Za-z0-9_]+$/),
})
export type EmbeddedPostgresInfo = z.infer<typeof EmbeddedPostgresInfoSchema>

export function embeddedPostgresInfoPath(dir: string): string {
  return path.join(dir, 'embedded-postgres.json')
}

/** The embedded cluster's connection details, or undefined when this data directory has none. */
export function readEmbeddedPostgresInfo(dir: string): EmbeddedPostgresInfo | undefined {
  const file = embeddedPostgresInfoPath(dir)
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  const parsed = EmbeddedPostgresInfoSchema.safeParse(JSON.parse(text))
  if (!parsed.success) throw new Error(`${file} is damaged (${parsed.error.issues.map((i) => i.message).join('; ')}); move it away and start again`)
  return parsed.data
}

export function embeddedDatabaseUrl(info: EmbeddedPostgresInfo): string {
  return `postgres://${encodeURIComponent(info.user)}:${encodeURIComponent(info.password)}@127.0.0.1:${info.port}/${info.database}`
}

/**
 * The database a CLI command talks to: --database-url, else DATABASE_URL, else the embedded Postgres
 * of `npm start` (which must be running). The error says how to fix each case.
 */
export function resolveCliDatabaseUrl(flags: Record<string, string | boolean>, env: Record<string, string | undefined> = process.env): string {
  const flag = flags['database-url']
  if (typeof flag === 'string' && flag.trim() !== '') return flag
  if (env.DATABASE_URL && env.DATABASE_URL.trim() !== '') return env.DATABASE_URL
  const info = readEmbeddedPostgresInfo(dataDir(env))
  if (info) return embeddedDatabaseUrl(info)
  throw new Error('no database: set DATABASE_URL or pass --database-url (or run this next to a running `npm start`, which uses the embedded Postgres under ./data)')
}
