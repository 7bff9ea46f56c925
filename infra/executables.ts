import fs from 'node:fs'

/** The path of an executable: `name` itself when it contains a slash and exists, else the first match on PATH. */
export function findExecutable(name: string): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (!dir) continue
    const candidate = `${dir}/${name}`
    if (isExecutable(candidate)) return candidate
  }
  return undefined
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}
