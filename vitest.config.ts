import { configDefaults, defineConfig } from 'vitest/config'

/**
 * Test projects, one per kind of test (see docs/testing.md):
 * unit (pure, no I/O), integration (real Postgres + Redis), workflows (real worker + Temporal's own servers),
 * e2e (real browser).
 *
 * Test files run in parallel, each in a process of its own with its own database, Redis prefix, Temporal server and
 * ports. Most of a file's time is spent waiting on those servers, so more files run at once than there are cores:
 * VITEST_MAX_FORKS, 4 by default. The global setup makes the template database, the workflow bundle and the
 * production web build once per run.
 */
const maxForks = Number(process.env.VITEST_MAX_FORKS ?? 4)

const UNIT = [
  'domain/**/*.test.ts',
  'workflows/**/*.test.ts',
  'config/**/*.test.ts',
  'activities/**/*.test.ts',
  'web/app/**/*.test.ts',
  'bot/**/*.test.ts',
  'temporal/**/*.test.ts',
]

/**
 * `npm run test:fast` (FLOWPANEL_TEST_TIER=fast): the inner loop in under a minute. The unit tests, the ledger and
 * panel adapters against real Postgres and the fakes, and the workflow files that need neither a browser nor a web
 * server (replay of the recorded histories, the periodic pass on the time-skipping server).
 * `npm test` runs everything, these included.
 */
/**
 * The files that run `npm start` itself, one after the other: each brings its own embedded Postgres, Redis and Temporal
 * dev server, which prefer the same ports (54329, 7233, 8233) and keep them across restarts.
 */
const NPM_START_FILES = ['tests/integration/start/start.test.ts', 'tests/integration/start/durability.test.ts']

const FAST = [
  ...UNIT,
  'tests/integration/ledger/*.test.ts',
  'tests/integration/panels/{marzban,3x-ui,session-sealing,login-cache}.test.ts',
  'tests/integration/db/!(cli).test.ts',
  'tests/workflows/{replay,periodic}.test.ts',
]

export default defineConfig({
  test: {
    globalSetup: ['./tests/setup/global-setup.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks, minForks: 1 } },
    projects:
      process.env.FLOWPANEL_TEST_TIER === 'fast'
        ? [
            {
              extends: true,
              test: {
                name: 'fast',
                include: FAST,
                testTimeout: 60_000,
                hookTimeout: 120_000,
              },
            },
          ]
        : [
            {
              extends: true,
              test: { name: 'unit', include: UNIT },
            },
            {
              extends: true,
              test: {
                name: 'integration',
                include: ['tests/integration/**/*.test.ts'],
                exclude: [...configDefaults.exclude, ...NPM_START_FILES],
                testTimeout: 60_000,
                hookTimeout: 120_000,
              },
            },
            {
              extends: true,
              test: {
                name: 'npm-start',
                include: NPM_START_FILES,
                testTimeout: 60_000,
                hookTimeout: 240_000,
                poolOptions: { forks: { singleFork: true } },
              },
            },
            {
              extends: true,
              test: {
                name: 'workflows',
                include: ['tests/workflows/**/*.test.ts'],
                testTimeout: 120_000,
                hookTimeout: 180_000,
              },
            },
            {
              extends: true,
              test: {
                name: 'e2e',
                include: ['tests/e2e/**/*.test.ts'],
                testTimeout: 120_000,
                hookTimeout: 240_000,
                poolOptions: { forks: { singleFork: true } },
              },
            },
          ],
  },
})
