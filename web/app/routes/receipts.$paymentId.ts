import type { LoaderFunctionArgs } from '@remix-run/node'
import { readReceipt } from '#db/receipts.ts'
import { getReceiptRef } from '#db/web-payments.ts'
import { idParam } from '~/utils/admin.server.ts'
import { requireUser } from '~/utils/auth.server.ts'

/**
 * A payment's receipt file, for the payer and for admins only. Anyone else gets 404, the same answer as
 * for a payment that does not exist, so ids reveal nothing.
 */
export async function loader({ request, context, params }: LoaderFunctionArgs) {
  const user = await requireUser(request, context)
  const paymentId = idParam(params.paymentId)
  const ref = await getReceiptRef(context.db, paymentId)
  if (!ref || (user.role !== 'admin' && ref.userId !== user.id)) throw new Response('Not found', { status: 404 })
  const file = await readReceipt(context.env.UPLOAD_DIR, ref.receiptPath)
  if (!file) throw new Response('Not found', { status: 404 })
  const ext = file.mime === 'application/pdf' ? 'pdf' : file.mime.split('/')[1]
  return new Response(new Uint8Array(file.bytes), {
    headers: {
      'Content-Type': file.mime,
      'Content-Length': String(file.bytes.length),
      'Content-Disposition': `inline; filename="receipt-${paymentId}.${ext}"`,
      'Cache-Control': 'private, no-store',
      // A PDF viewer may run scripts; the sandbox keeps them away from the app's origin.
      'Content-Security-Policy': "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    },
  })
}
