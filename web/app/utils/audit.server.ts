import type { AppLoadContext } from '@remix-run/node'
import { writeAudit } from '#db/audit.ts'

/** Writes one audit row for an action of `actorUserId` in this request (IP and user agent included). */
export async function audit(
  request: Request,
  context: AppLoadContext,
  actorUserId: number | null,
  action: string,
  target?: { type: string; id: string | number | null },
  detail?: Record<string, unknown>,
): Promise<void> {
  await writeAudit(context.db, {
    actorUserId,
    action,
    targetType: target?.type ?? null,
    targetId: target?.id ?? null,
    detail,
    ip: context.clientIp,
    userAgent: request.headers.get('User-Agent'),
  })
}
