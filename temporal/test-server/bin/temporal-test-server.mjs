#!/usr/bin/env node
// Launcher for the built-in Temporal test server, following the SDK test-server contract:
//   temporal-test-server <port> [--enable-time-skipping]
// It runs the TypeScript sources in this same process (no child process), so that the launcher's
// kill reaches the server. Module resolution is relative to this file, so any working directory works.
import { register } from 'tsx/esm/api'

register()
await import('../cli.ts')
