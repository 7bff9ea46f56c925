import type { Msg } from './grpc.ts'

/** `google.protobuf.Timestamp` (or Duration) from milliseconds. */
export function ts(ms: number): Msg {
  const whole = Math.floor(ms)
  const seconds = Math.floor(whole / 1000)
  return { seconds, nanos: (whole - seconds * 1000) * 1_000_000 }
}

export const dur = ts

/** Milliseconds from a decoded `google.protobuf.Duration` or `Timestamp`; 0 when absent. */
export function toMs(value: Msg | null | undefined): number {
  if (!value) return 0
  return Number(value.seconds ?? 0) * 1000 + Math.floor(Number(value.nanos ?? 0) / 1_000_000)
}

/** `ActivityTaskScheduled` → `EVENT_TYPE_ACTIVITY_TASK_SCHEDULED`. */
export function eventTypeName(type: string): string {
  return `EVENT_TYPE_${snake(type)}`
}

/** `ActivityTaskScheduled` → `activityTaskScheduledEventAttributes`. */
export function eventAttributesKey(type: string): string {
  return `${type[0]!.toLowerCase()}${type.slice(1)}EventAttributes`
}

/** `COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK` → `scheduleActivityTaskCommandAttributes`. */
export function commandAttributesKey(commandType: string): string {
  const words = commandType.replace(/^COMMAND_TYPE_/, '').toLowerCase().split('_')
  return words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('') + 'CommandAttributes'
}

export function snake(type: string): string {
  return type.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

export function encodeToken(value: Msg): Buffer {
  return Buffer.from(JSON.stringify(value))
}

export function decodeToken(token: unknown): Msg | undefined {
  if (!token || !(token instanceof Uint8Array)) return undefined
  try {
    const value: unknown = JSON.parse(Buffer.from(token).toString('utf8'))
    return value && typeof value === 'object' ? (value as Msg) : undefined
  } catch {
    return undefined
  }
}

export function parseDurationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim())
  if (!match) throw new Error(`Invalid duration: ${text}`)
  const n = Number(match[1])
  const unit = match[2] ?? 'ms'
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]!
}
