import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'

/**
 * Secrets at rest (panel credentials, TOTP secrets) are sealed with AES-256-GCM under a key derived
 * from APP_SECRET with HKDF. The stored form is `v1:<iv>:<tag>:<ciphertext>` (base64url parts).
 */
function keyFor(appSecret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(appSecret), Buffer.alloc(0), Buffer.from(`flowpanel:${purpose}`), 32))
}

export function seal(appSecret: string, purpose: string, plaintext: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keyFor(appSecret, purpose), iv)
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  const tag = cipher.getAuthTag()
  return ['v1', iv.toString('base64url'), tag.toString('base64url'), body.toString('base64url')].join(':')
}

export function unseal(appSecret: string, purpose: string, sealed: string): string {
  const [version, iv, tag, body] = sealed.split(':')
  if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('sealed value has an unknown format')
  const decipher = createDecipheriv('aes-256-gcm', keyFor(appSecret, purpose), Buffer.from(iv, 'base64url'))
  decipher.setAuthTag(Buffer.from(tag, 'base64url'))
  try {
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
  } catch {
    throw new Error('sealed value could not be decrypted (wrong APP_SECRET or tampered data)')
  }
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}
