import { ScheduleNotFoundError } from '@temporalio/client'
import { readPeriodicStatus, runPeriodicPassNow, type PeriodicStatus } from '#temporal/periodic.ts'
import type { Command } from '../cli.ts'
import { withCliTemporal } from './workflows.ts'

function minutes(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`
}

/** The status as lines of `key: value`, for people and for grep. */
export function formatPeriodicStatus(s: PeriodicStatus): string[] {
  if (s.schedule === 'missing') return [`schedule ${s.scheduleId}: missing (a worker started without --no-periodic creates it)`]
  const lines = [
    `schedule ${s.scheduleId}: ${s.schedule}${s.note ? ` (${s.note})` : ''}`,
    `interval: ${s.intervalMs === null ? '?' : minutes(s.intervalMs)}`,
    `next pass: ${s.nextPassAt ?? 'none'}`,
    `running: ${s.running.length === 0 ? 'none' : s.running.join(', ')}`,
    `passes started: ${s.passesStarted}, skipped while one was running: ${s.skippedOverlap}`,
  ]
  const last = s.lastPass
  if (!last) {
    lines.push('last pass: none yet')
    return lines
  }
  lines.push(`last pass: ${last.workflowId} ${last.outcome}, started ${last.startedAt}`)
  if (last.summary) {
    const p = last.summary
    lines.push(`  panels healthy: ${p.panelsHealthy} of ${p.panelsChecked}, accounts synced: ${p.accountsSynced}, warnings sent: ${p.warningsSent}`)
    for (const problem of p.problems) lines.push(`  problem: ${problem}`)
  }
  return lines
}

const status: Command = {
  name: ['periodic', 'status'],
  usage: 'periodic status',
  summary: 'Show the periodic-maintenance schedule (interval, next pass, running) and what its last pass did',
  async run({ out }) {
    return withCliTemporal(async (client) => {
      const s = await readPeriodicStatus(client)
      for (const line of formatPeriodicStatus(s)) out(line)
      return s.schedule === 'missing' ? 1 : 0
    })
  },
}

const run: Command = {
  name: ['periodic', 'run'],
  usage: 'periodic run',
  summary: 'Run a periodic maintenance pass now (after the running one, if a pass is running)',
  async run({ out }) {
    return withCliTemporal(async (client) => {
      try {
        await runPeriodicPassNow(client)
      } catch (error) {
        if (!(error instanceof ScheduleNotFoundError)) throw error
        process.stderr.write('no periodic-maintenance schedule yet: start a worker without --no-periodic\n')
        return 1
      }
      out('periodic maintenance pass requested; `periodic status` shows it')
      return 0
    })
  },
}

export const commands: Command[] = [status, run]
