import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { chromium, type Browser, type Page } from 'playwright-core'
import { SHARED, sharedWebBuild } from '#tests/setup/shared.ts'
import { PASSWORD } from '../web/harness.ts'

/** Helpers of the agent and customer browser tests (tests/e2e/agent*.test.ts, tests/e2e/customer*.test.ts). */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/**
 * The web app built for production: the run's shared build when the global setup made one (tests/setup/shared.ts),
 * else a build of its own, into a directory inside the repository (under test-artifacts/, so the server bundle
 * resolves its packages) that a build running elsewhere never swaps. Give it back with `removeWebBuild`.
 */
export async function buildWeb(): Promise<string> {
  const shared = await sharedWebBuild()
  if (shared) return shared
  const artifacts = path.join(ROOT, 'test-artifacts')
  await mkdir(artifacts, { recursive: true })
  const dir = await mkdtemp(path.join(artifacts, '.web-build-'))
  await promisify(execFile)('npx', ['remix', 'vite:build', '--config', 'web/vite.config.ts', '--logLevel', 'error'], {
    cwd: ROOT,
    maxBuffer: 1 << 24,
    env: { ...process.env, FLOWPANEL_WEB_BUILD_DIR: dir },
  })
  return dir
}

/** Removes a build `buildWeb` made for this file; the run's shared build stays for the other files. */
export async function removeWebBuild(dir: string | undefined): Promise<void> {
  if (dir && dir !== process.env[SHARED.webBuild]) await rm(dir, { recursive: true, force: true })
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
}

export async function signInPage(page: Page, username: string, home: string): Promise<void> {
  await page.goto('/login')
  await page.fill('#f-username', username)
  await page.fill('#f-password', PASSWORD)
  await page.click('main button[type=submit]')
  await page.waitForURL(`**${home}`)
}

/**
 * Records every step the status tracker shows (its `data-step`), from the first render on, into
 * `window.__steps`: the proof that a page moved through the steps by itself.
 */
export const RECORD_STEPS = `
  window.__steps = [];
  window.__loadedAt = Math.random();
  const record = () => {
    const el = document.querySelector('.status-tracker');
    const step = el && el.getAttribute('data-step');
    if (step && window.__steps[window.__steps.length - 1] !== step) window.__steps.push(step);
  };
  new MutationObserver(record).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-step'] });
  document.addEventListener('DOMContentLoaded', record);
`
