import type { Api } from 'grammy'
import type { Message } from 'grammy/types'

export interface ReceiptFile {
  fileId: string
  /** Size Telegram reports, when it does. */
  size: number | undefined
  kind: 'photo' | 'document'
}

const DOCUMENT_TYPES = new Set(['application/pdf', 'image/jpeg', 'image/png', 'image/webp'])

/**
 * The receipt in a message: the largest size of a photo, or a document whose declared type is a PDF or an image.
 * Returns 'wrong-type' for other documents and undefined when the message carries no file at all.
 */
export function receiptFileOf(message: Message): ReceiptFile | 'wrong-type' | undefined {
  if (message.photo && message.photo.length > 0) {
    const largest = [...message.photo].sort((a, b) => a.width * a.height - b.width * b.height).at(-1)!
    return { fileId: largest.file_id, size: largest.file_size, kind: 'photo' }
  }
  if (message.document) {
    if (!message.document.mime_type || !DOCUMENT_TYPES.has(message.document.mime_type)) return 'wrong-type'
    return { fileId: message.document.file_id, size: message.document.file_size, kind: 'document' }
  }
  if (message.video || message.audio || message.voice || message.sticker || message.animation || message.video_note) return 'wrong-type'
  return undefined
}

export class FileTooLargeError extends Error {}

/**
 * Downloads a file a person sent, through `getFile` and the Bot API's file endpoint, reading at most `maxBytes`.
 * The URL holds the token, so errors never quote it.
 */
export async function downloadTelegramFile(api: Api, apiRoot: string, fileId: string, maxBytes: number): Promise<Buffer> {
  const file = await api.getFile(fileId)
  if (!file.file_path) throw new Error('Telegram did not give a path for the file')
  if (file.file_size !== undefined && file.file_size > maxBytes) throw new FileTooLargeError()
  const url = `${apiRoot.replace(/\/+$/, '')}/file/bot${api.token}/${file.file_path}`
  let response: Response
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30_000) })
  } catch (error) {
    throw new Error(`Telegram file download failed (${error instanceof Error ? error.name : 'error'})`)
  }
  if (!response.ok || !response.body) throw new Error(`Telegram file download answered HTTP ${response.status}`)
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length
    if (total > maxBytes) throw new FileTooLargeError()
    chunks.push(Buffer.from(chunk))
  }
  return Buffer.concat(chunks)
}
