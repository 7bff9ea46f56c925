import type { Command } from '../cli.ts'

/** Every CLI command; each feature adds its module's commands here. */
export async function loadCommands(): Promise<Command[]> {
  const modules = await Promise.all([
    // one import per feature module, e.g. import('./db.ts')
    import('./report.ts'),
  ] as Promise<{ commands: Command[] }>[])
  return modules.flatMap((m) => m.commands)
}
