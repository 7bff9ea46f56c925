/** A QR code made by the loader (utils/qr.server.ts `qrDataUrl`). */
export function QrCode({ src, label }: { src: string; label: string }) {
  return <img className="qr" src={src} alt={label} width={200} height={200} />
}
