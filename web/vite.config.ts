import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { vitePlugin as remix } from '@remix-run/dev'
import { defineConfig } from 'vite'

const webDir = path.dirname(fileURLToPath(import.meta.url))
// Vite's root is the repository, so the app resolves the package.json `imports` (#db/*, #domain/*) like the rest of the code.
const repoDir = path.dirname(webDir)
// Tests build into their own directory so a build running elsewhere cannot swap the assets under them.
const buildDirectory = process.env.FLOWPANEL_WEB_BUILD_DIR ? path.relative(repoDir, path.resolve(process.env.FLOWPANEL_WEB_BUILD_DIR)) : 'web/build'

declare module '@remix-run/node' {
  interface Future {
    v3_singleFetch: true
  }
}

/**
 * The Remix app lives in web/app and builds into web/build (client assets + server bundle).
 * Server-only modules of the rest of the repository (db/, domain/, temporal/) are bundled into the
 * server build through the package.json `imports` aliases; npm packages stay external.
 */
export default defineConfig({
  root: repoDir,
  cacheDir: path.join(repoDir, 'node_modules/.vite-web'),
  publicDir: path.join(webDir, 'public'),
  resolve: { alias: { '~': path.join(webDir, 'app') } },
  build: { target: 'es2022', sourcemap: false },
  // Server-only native packages: the dev dependency scan reaches them through route loaders, but the browser never
  // loads them (Remix removes loader code from the client bundle). @node-rs/argon2's browser entry needs a WASI build.
  optimizeDeps: { exclude: ['@node-rs/argon2'] },
  plugins: [
    remix({
      appDirectory: 'web/app',
      buildDirectory,
      serverModuleFormat: 'esm',
      ignoredRouteFiles: ['**/*.test.ts', '**/*.server.ts', '**/*.css'],
      future: {
        v3_fetcherPersist: true,
        v3_relativeSplatPath: true,
        v3_throwAbortReason: true,
        v3_singleFetch: true,
        v3_lazyRouteDiscovery: true,
      },
    }),
  ],
})
