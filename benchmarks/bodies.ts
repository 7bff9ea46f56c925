import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { request as httpRequest } from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { envWithDefaults } from '#config/env.ts'
import { createDb } from '#db/knex.ts'
import { createTestDatabase } from '#tests/setup/database.ts'
import { freePort } from '../bin/start/processes.ts'
import { flag } from './support.ts'

/**
 * Memory of the web process under anonymous oversized bodies: PARALLEL parallel `POST /login` of BODY_MB each
 * (declared Content-Length, then chunked), sent as fast as the server takes them. Prints the web process's RSS
 * before and at its peak, and the slowest answer of a `/healthz` probe sent every 100 ms meanwhile.
 *
 *   npm run bench:bodies [-- --parallel 16 --mb 50]
 *
 * The web server runs in its own process (this file with `--serve`), so the figures are its own.
 */
const PARALLEL = Number(flag('parallel') ?? 16)
const BODY_MB = Number(flag('mb') ?? 50)
const MB = 1024 * 1024

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024
}

/** The web process: flowpanel's web server on DATABASE_URL, plus a /healthz that answers at once. */
async function serve(): Promise<void> {
  const { startWebServer } = await import('../web/server.ts')
  const env = envWithDefaults({ NODE_ENV: 'test', TEMPORAL_ADDRESS: '' })
  const db = createDb(env.DATABASE_URL!)
  const redis = new Redis(env.REDIS_URL)
  const server = await startWebServer({
    env,
    db,
    redis,
    port: env.PORT,
    host: '127.0.0.1',
    mode: 'development',
    optimizeClientDeps: false,
    mountRoutes: (app) => app.get('/healthz', (_req, res) => res.json({ ok: true })),
  })
  process.stdout.write(`ready ${server.url}\n`)
}

interface Outcome {
  status: number
  sentMb: number
}

/** One anonymous sign-in with a body of `bytes` ('a' repeated), sent until the server answers. */
function oversized(url: string, bytes: number, chunked: boolean): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'Content-Type': 'application/x-www-form-urlencoded' }
    if (chunked) headers['Transfer-Encoding'] = 'chunked'
    else headers['Content-Length'] = bytes
    const req = httpRequest(new URL('/login', url), { method: 'POST', headers })
    const chunk = Buffer.alloc(256 * 1024, 'a')
    let sent = 0
    let answered = false
    req.on('response', (res) => {
      answered = true
      res.resume()
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, sentMb: sent / MB })
        req.destroy()
      })
    })
    req.on('error', (error) => {
      if (!answered) reject(error)
    })
    const pump = () => {
      while (!answered && sent < bytes) {
        const part = bytes - sent >= chunk.length ? chunk : chunk.subarray(0, bytes - sent)
        sent += part.length
        if (!req.write(part)) return void req.once('drain', pump)
      }
      if (!answered) req.end()
    }
    pump()
  })
}

async function probe(url: string): Promise<number> {
  const t0 = performance.now()
  const res = await fetch(new URL('/healthz', url))
  await res.text()
  return performance.now() - t0
}

async function round(url: string, pid: number, chunked: boolean) {
  const before = rssMb(pid)
  let peak = before
  let slowest = 0
  let running = true
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, rssMb(pid))
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  const prober = (async () => {
    while (running) {
      slowest = Math.max(slowest, await probe(url).catch(() => Infinity))
      await new Promise((r) => setTimeout(r, 100))
    }
  })()
  const t0 = performance.now()
  const outcomes = await Promise.all(Array.from({ length: PARALLEL }, () => oversized(url, BODY_MB * MB, chunked)))
  const wallMs = performance.now() - t0
  // Whatever the server still holds shows in the next samples.
  await new Promise((r) => setTimeout(r, 300))
  running = false
  await Promise.all([sampler, prober])
  const statuses = [...new Set(outcomes.map((o) => o.status))].join(',')
  const sent = outcomes.reduce((sum, o) => sum + o.sentMb, 0)
  return { before, peak, slowest, wallMs, statuses, sent }
}

async function main(): Promise<void> {
  if (process.argv.includes('--serve')) return serve()
  const database = await createTestDatabase('bench_bodies')
  const port = await freePort('127.0.0.1')
  const self = fileURLToPath(import.meta.url)
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--serve'], {
    cwd: path.resolve(path.dirname(self), '..'),
    env: { ...process.env, DATABASE_URL: database.url, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString()
        const m = /ready (\S+)/.exec(out)
        if (m) resolve(m[1]!)
      })
      child.once('exit', (code) => reject(new Error(`the web process exited with ${code}`)))
    })
    // Compile the sign-in page once, so the first round does not measure Vite.
    await fetch(new URL('/login', url)).then((r) => r.text())
    await new Promise((r) => setTimeout(r, 500))
    console.log(`flowpanel web: ${PARALLEL} parallel anonymous POST /login of ${BODY_MB} MB each, web process RSS (MB)\n`)
    console.log('body      idle RSS  peak RSS  slowest /healthz  wall     statuses  MB sent in all')
    for (const chunked of [false, true]) {
      const r = await round(url, child.pid!, chunked)
      console.log(
        [
          (chunked ? 'chunked' : 'declared').padEnd(8),
          r.before.toFixed(0).padStart(8),
          r.peak.toFixed(0).padStart(9),
          `${r.slowest.toFixed(0)} ms`.padStart(16),
          `${(r.wallMs / 1000).toFixed(1)} s`.padStart(7),
          r.statuses.padStart(9),
          r.sent.toFixed(1).padStart(15),
        ].join('  '),
      )
    }
  } finally {
    child.kill('SIGTERM')
    await database.drop()
  }
}

main().then(
  () => {
    if (!process.argv.includes('--serve')) process.exit(0)
  },
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
