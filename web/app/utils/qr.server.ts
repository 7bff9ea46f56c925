import QRCode from 'qrcode'

/**
 * A QR code of `text` as an SVG document, made on the server so pages need no QR code in the browser bundle.
 * Subscription links are short, so medium error correction keeps the code small and easy to scan.
 */
export async function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, color: { dark: '#000000', light: '#ffffff' } })
}

/** The same QR code as a data URL for an `<img>`. */
export async function qrDataUrl(text: string): Promise<string> {
  return `data:image/svg+xml;base64,${Buffer.from(await qrSvg(text)).toString('base64')}`
}
