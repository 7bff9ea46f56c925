import type { Command } from '../cli.ts'

/** Every CLI command; each feature adds its module's commands here. */
export async function loadCommands(): Promise<Command[]> {
  const modules = await Promise.all([
    // one import per feature module
    import('./db.ts'),
    import('./admin.ts'),
    import('./ledger.ts'),
    import('./report.ts'),
    import('./backup.ts'),
    import('./panel.ts'),
  ] as Promise<{ commands: Command[] }>[])
  return modules.flatMap((m) => m.commands)
}
