import { z } from 'zod'
import type { ReceiptMethod } from '#db/telegram.ts'
import type { BotContext } from '../context.ts'
import type { CardFacts } from '../i18n/en.ts'

const ConfigSchema = z
  .object({
    cardNumber: z.string().optional(),
    holder: z.string().optional(),
    bank: z.string().optional(),
    sheba: z.string().optional(),
    network: z.string().optional(),
    address: z.string().optional(),
  })
  .passthrough()

export function methodTitle(ctx: BotContext, method: Pick<ReceiptMethod, 'titleFa' | 'titleEn'>): string {
  return ctx.locale === 'fa' ? method.titleFa : method.titleEn
}

/** Groups a 16-digit card number in fours, as it is printed on the card (easier to copy without mistakes). */
export function formatCardNumber(text: string): string {
  const digits = text.replace(/\D/g, '')
  return digits.length === 16 ? digits.replace(/(\d{4})(?=\d)/g, '$1 ').trim() : text
}

/** What to show a payer of a receipt method: card, IBAN or wallet address, the holder, and the exact amount. */
export function cardFacts(ctx: BotContext, method: ReceiptMethod, amount: string, orderId: number | null): CardFacts {
  const parsed = ConfigSchema.safeParse(method.config ?? {})
  const c = parsed.success ? parsed.data : {}
  let destination: string | null = null
  if (method.kind === 'SHEBA') destination = c.sheba ?? null
  if (method.kind === 'CRYPTO') destination = c.address ? `${c.address}${c.network ? ` (${c.network})` : ''}` : null
  return {
    method: methodTitle(ctx, method),
    cardNumber: method.kind === 'CARD' && c.cardNumber ? formatCardNumber(c.cardNumber) : null,
    holder: c.holder ?? null,
    bank: c.bank ?? null,
    destination,
    amount,
    orderId,
  }
}
