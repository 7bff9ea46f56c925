import type { LoaderFunctionArgs } from '@remix-run/node'
import { parseId } from '#domain/ids.ts'
import type { LiveKind, LiveStatus } from '~/components/status-tracker.tsx'
import { getOptionalUser } from '~/utils/auth.server.ts'
import { loadSubject, readLiveStatus, readPublished, statusChannel, workflowIdOf } from '~/utils/live-status.server.ts'
import { eventStream, listenToChannel } from '~/utils/sse.server.ts'

/** How often an open stream also asks the workflow itself, in case a pub/sub message was lost. */
const CHECK_EVERY_MS = 10_000

const noStore = { 'Cache-Control': 'no-store' }

function jsonError(status: number, code: string, message: string): Response {
  return Response.json({ error: { code, message } }, { status, headers: noStore })
}

/**
 * `/status/order/12`, `/status/payment/7` and `/status/refund/<accountId>`: the live state of one order, payment
 * or account refund of the signed-in user (admins may follow any). With `Accept: text/event-stream` it streams `status` events — the current state at
 * once, then every change the workflow publishes on Redis — and ends after a final state. Otherwise it answers
 * the current state as JSON, which is what the page polls when server-sent events are not available.
 */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await getOptionalUser(request, context)
  if (!user) return jsonError(401, 'UNAUTHENTICATED', 'Sign in to follow this status')
  const kind = params.kind
  const id = parseId(params.id)
  if ((kind !== 'order' && kind !== 'payment' && kind !== 'refund') || id === null) {
    return jsonError(404, 'NOT_FOUND', 'No such status')
  }
  const subject = await loadSubject(context.db, kind as LiveKind, id)
  // Someone else's order reads exactly like one that does not exist.
  if (!subject || (subject.userId !== user.id && user.role !== 'admin')) return jsonError(404, 'NOT_FOUND', `No ${kind} ${id} of yours`)

  if (!(request.headers.get('Accept') ?? '').includes('text/event-stream')) {
    return Response.json(await readLiveStatus(context, subject), { headers: noStore })
  }

  return eventStream(request, async (sink) => {
    let lastSent = ''
    const push = (status: LiveStatus) => {
      const text = JSON.stringify(status)
      if (text === lastSent || sink.closed) return
      lastSent = text
      sink.send('status', status)
      if (status.final) sink.close()
    }
    // One refresh at a time, in arrival order, so a slow read never overwrites a newer state.
    let queue = Promise.resolve()
    const refresh = (how: 'published' | 'full') => {
      queue = queue
        .then(async () => {
          if (sink.closed) return
          if (how === 'published') {
            // The message only says "something changed"; the state is read from this app's own Redis key, so a
            // message on the same channel name from another installation sharing the server changes nothing.
            const published = await readPublished(context, subject.kind, subject.id)
            if (published) push({ ...published, paymentId: published.paymentId ?? subject.stored.paymentId })
            return
          }
          const fresh = await loadSubject(context.db, subject.kind, subject.id)
          if (fresh) push(await readLiveStatus(context, fresh))
        })
        .catch(() => {})
    }
    // Subscribe before the first read, so no change can fall between the two.
    const unsubscribe = await listenToChannel(context.redis, statusChannel(context.env, workflowIdOf(subject.kind, subject.id)), () => refresh('published'))
    push(await readLiveStatus(context, subject))
    const check = setInterval(() => refresh('full'), CHECK_EVERY_MS)
    return async () => {
      clearInterval(check)
      await unsubscribe()
    }
  })
}
