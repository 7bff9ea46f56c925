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
    import('./agent.ts'),
    import('./customer.ts'),
    import('./plan.ts'),
    import('./wallet.ts'),
    import('./payment.ts'),
    import('./order.ts'),
    import('./account.ts'),
    import('./workflows.ts'),
    import('./periodic.ts'),
    import('./bot.ts'),
  ] as Promise<{ commands: Command[] }>[])
  return modules.flatMap((m) => m.commands)
}
