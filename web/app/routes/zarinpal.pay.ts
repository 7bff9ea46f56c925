import { redirect, type ActionFunctionArgs } from '@remix-run/node'
import { requireRole } from '~/utils/auth.server.ts'
import { readForm } from '~/utils/forms.server.ts'
import { i18nFor } from '~/utils/request.server.ts'
import { positiveId, ShopError } from '~/utils/shop.server.ts'
import { startGatewayPayment } from '~/utils/zarinpal.server.ts'

/** Pay (again) with Zarinpal for an order waiting for its gateway payment: a new session, then off to StartPay. */
export async function action({ request, context }: ActionFunctionArgs) {
  const user = await requireRole(request, context, 'customer')
  const form = await readForm(request, context)
  const { t } = i18nFor(request, context, user)
  const orderId = positiveId(String(form.get('orderId') ?? ''))
  try {
    return redirect(await startGatewayPayment(context, { userId: user.id, orderId, t }))
  } catch (error) {
    if (error instanceof ShopError) return redirect(`/customer/orders/${orderId}?gateway=${error.code === 'GATEWAY_OFF' ? 'off' : 'unavailable'}`)
    throw error
  }
}

export function loader() {
  throw new Response('Not found', { status: 404 })
}
