import { z } from 'zod'
import { PanelError } from './errors.ts'
import type { PanelType } from './types.ts'

/**
 * Per-panel settings kept in `panels.settings` (jsonb). Parsed whenever an adapter is built, so a
 * typo in the database is reported by name instead of failing a workflow later.
 */
export const MarzbanProtocolSchema = z.enum(['vmess', 'vless', 'trojan', 'shadowsocks'])
export type MarzbanProtocol = z.infer<typeof MarzbanProtocolSchema>

export const MarzbanSettingsSchema = z
  .object({
    /** Inbound tags new users get (e.g. `VLESS TCP REALITY`). Omitted: every inbound of the chosen protocols. */
    inbounds: z.array(z.string().min(1)).min(1).optional(),
    /** Per-protocol proxy settings, e.g. `{ "vless": { "flow": "xtls-rprx-vision" } }`. Omitted: protocols of `inbounds`, or all. */
    proxies: z.record(MarzbanProtocolSchema, z.record(z.string(), z.unknown())).optional(),
    /** Prefix for relative subscription URLs (Marzban's default); omitted: the panel URL. */
    subscriptionBaseUrl: z.string().url().optional(),
  })
  .strict()
export type MarzbanSettings = z.infer<typeof MarzbanSettingsSchema>

export const XuiSettingsSchema = z
  .object({
    /** The inbound new clients are added to. */
    inboundId: z.number().int().positive(),
    /** Public host for share links and subscription URLs when the panel's own settings leave the domain empty. */
    publicHost: z.string().min(1).optional(),
    /** Overrides the subscription URL prefix (the subscription id is appended), e.g. `https://sub.example.com/sub/`. */
    subscriptionBaseUrl: z.string().url().optional(),
    /** VLESS flow for new clients (`xtls-rprx-vision` on TCP+TLS/REALITY inbounds). */
    flow: z.enum(['', 'xtls-rprx-vision']).optional(),
    /** Maximum simultaneous IPs per client; 0 = unlimited. */
    limitIp: z.number().int().min(0).optional(),
  })
  .strict()
export type XuiSettings = z.infer<typeof XuiSettingsSchema>

export function parsePanelSettings(type: 'marzban', raw: unknown): MarzbanSettings
export function parsePanelSettings(type: '3x-ui', raw: unknown): XuiSettings
export function parsePanelSettings(type: PanelType, raw: unknown): MarzbanSettings | XuiSettings
export function parsePanelSettings(type: PanelType, raw: unknown): MarzbanSettings | XuiSettings {
  const schema = type === 'marzban' ? MarzbanSettingsSchema : XuiSettingsSchema
  const result = schema.safeParse(raw ?? {})
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || 'settings'}: ${i.message}`).join('; ')
    throw new PanelError('PANEL_MISCONFIGURED', `${type} panel settings are invalid: ${problems}`)
  }
  return result.data
}

/** Everything needed to talk to one panel. Credentials are plaintext here: never log this object. */
export interface PanelConnection {
  type: PanelType
  baseUrl: string
  username: string
  password: string
  /** 3X-UI two-factor secret (base32); a TOTP code is computed at each login. */
  totpSecret?: string | null
  proxyUrl?: string | null
  settings: unknown
  /** Per-request deadline (default 10 s). */
  timeoutMs?: number
}
