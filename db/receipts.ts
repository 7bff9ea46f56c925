import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { getEnv } from '#config/env.ts'

/**
 * Receipt files (payment proofs uploaded by agents and customers, from the web or the bot). A file is
 * accepted by its content, never its name: JPEG, PNG, WebP or PDF by magic bytes, at most RECEIPT_MAX_BYTES.
 * It is stored under UPLOAD_DIR/receipts/<yyyy>/<mm>/<random>.<ext>, so names can be neither guessed nor
 * chosen by the uploader; the SHA-256 is returned for the payments row (duplicate detection).
 */
export type ReceiptMime = 'image/jpeg' | 'image/png' | 'image/webp' | 'application/pdf'

export interface StoredReceiptFile {
  /** Relative to UPLOAD_DIR, with forward slashes; what payments.receipt_path holds. */
  path: string
  sha256: string
  mime: ReceiptMime
  size: number
}

export type ReceiptErrorCode = 'EMPTY' | 'TOO_LARGE' | 'UNSUPPORTED_TYPE'

export class ReceiptError extends Error {
  override readonly name = 'ReceiptError'
  constructor(
    readonly code: ReceiptErrorCode,
    message: string,
  ) {
    super(message)
  }
}

const TYPES: { mime: ReceiptMime; ext: string; matches: (b: Buffer) => boolean }[] = [
  { mime: 'image/jpeg', ext: 'jpg', matches: (b) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff },
  { mime: 'image/png', ext: 'png', matches: (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { mime: 'image/webp', ext: 'webp', matches: (b) => b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP' },
  { mime: 'application/pdf', ext: 'pdf', matches: (b) => b.toString('latin1', 0, 5) === '%PDF-' },
]

/** The receipt type of a file's content, or undefined when it is none of the accepted ones. */
export function detectReceiptType(bytes: Buffer): { mime: ReceiptMime; ext: string } | undefined {
  const type = TYPES.find((t) => t.matches(bytes))
  return type && { mime: type.mime, ext: type.ext }
}

export interface ReceiptStorageOptions {
  uploadDir: string
  maxBytes: number
}

function defaults(): ReceiptStorageOptions {
  const env = getEnv()
  return { uploadDir: env.UPLOAD_DIR, maxBytes: env.RECEIPT_MAX_BYTES }
}

/**
 * Checks and stores one receipt. `declaredName` (the uploader's file name) only makes error messages
 * clearer; it never decides the type or the stored name. Throws `ReceiptError`.
 */
export async function storeReceipt(bytes: Buffer, declaredName: string, options: ReceiptStorageOptions = defaults()): Promise<StoredReceiptFile> {
  const label = declaredName.trim() ? `"${path.basename(declaredName).slice(0, 80)}"` : 'The receipt'
  if (bytes.length === 0) throw new ReceiptError('EMPTY', `${label} is empty`)
  if (bytes.length > options.maxBytes) {
    throw new ReceiptError('TOO_LARGE', `${label} is ${Math.ceil(bytes.length / 1024)} KB; receipts may be at most ${Math.floor(options.maxBytes / 1024)} KB`)
  }
  const type = detectReceiptType(bytes)
  if (!type) throw new ReceiptError('UNSUPPORTED_TYPE', `${label} is not a JPEG, PNG or WebP photo or a PDF`)
  const now = new Date()
  const relative = path.posix.join(
    'receipts',
    String(now.getUTCFullYear()),
    String(now.getUTCMonth() + 1).padStart(2, '0'),
    `${randomBytes(16).toString('hex')}.${type.ext}`,
  )
  const absolute = resolveReceiptPath(options.uploadDir, relative)
  await mkdir(path.dirname(absolute), { recursive: true, mode: 0o750 })
  await writeFile(absolute, bytes, { flag: 'wx', mode: 0o640 })
  return { path: relative, sha256: createHash('sha256').update(bytes).digest('hex'), mime: type.mime, size: bytes.length }
}

/** The absolute path of a stored receipt; refuses anything that would leave UPLOAD_DIR. */
export function resolveReceiptPath(uploadDir: string, relative: string): string {
  const root = path.resolve(uploadDir)
  const absolute = path.resolve(root, relative)
  if (path.isAbsolute(relative) || !absolute.startsWith(root + path.sep)) throw new ReceiptError('UNSUPPORTED_TYPE', 'receipt path is outside the upload directory')
  return absolute
}

/** Reads a stored receipt and re-checks its type from the bytes (the file on disk is trusted no more than the upload). */
export async function readReceipt(uploadDir: string, relative: string): Promise<{ bytes: Buffer; mime: ReceiptMime } | undefined> {
  let bytes: Buffer
  try {
    bytes = await readFile(resolveReceiptPath(uploadDir, relative))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof ReceiptError) return undefined
    throw error
  }
  const type = detectReceiptType(bytes)
  return type ? { bytes, mime: type.mime } : undefined
}
