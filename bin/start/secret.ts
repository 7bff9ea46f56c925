import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'

/**
 * APP_SECRET for the embedded default: generated once (32 random bytes, hex) and kept in
 * `<data>/app-secret` (mode 0600). Losing it makes stored panel credentials unreadable, so it is
 * backed up with the data directory.
 */
export async function ensureAppSecret(dataDir: string): Promise<{ secret: string; created: boolean; file: string }> {
  const file = path.join(dataDir, 'app-secret')
  try {
    const secret = (await fs.readFile(file, 'utf8')).trim()
    if (secret.length < 32) throw new Error(`${file} holds a secret shorter than 32 characters; restore the original file (panel credentials depend on it)`)
    return { secret, created: false, file }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await fs.mkdir(dataDir, { recursive: true })
  const secret = randomBytes(32).toString('hex')
  // wx: never overwrite a secret another process just wrote.
  await fs.writeFile(file, secret + '\n', { mode: 0o600, flag: 'wx' })
  return { secret, created: true, file }
}
