import { InputFile, type Api } from 'grammy'
import QRCode from 'qrcode'
import type { Html } from '../i18n/html.ts'

export async function qrPng(text: string): Promise<Buffer> {
  return QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: 512 })
}

/** Telegram's limit for a photo caption. */
const CAPTION_LIMIT = 1024

/**
 * Sends a subscription link as a QR code photo with `caption`; a caption too long for a photo goes in its own
 * message right after.
 */
export async function sendLinkQr(api: Api, chatId: number | string, link: string, caption: Html, keyboardMarkup?: Parameters<Api['sendPhoto']>[2]): Promise<void> {
  const photo = new InputFile(await qrPng(link), 'subscription-qr.png')
  const captionText = caption.value
  const fits = captionText.replace(/<[^>]+>/g, '').length <= CAPTION_LIMIT
  if (fits) {
    await api.sendPhoto(chatId, photo, { caption: captionText, parse_mode: 'HTML', ...keyboardMarkup })
    return
  }
  await api.sendPhoto(chatId, photo)
  await api.sendMessage(chatId, captionText, { parse_mode: 'HTML', link_preview_options: { is_disabled: true }, ...keyboardMarkup })
}
