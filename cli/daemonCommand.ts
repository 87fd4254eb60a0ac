import type { Command } from 'commander';

/** `vigil daemon --config FILE`: the service's entry point (systemd runs this). */
export function registerDaemonCommand(program: Command): void {
  program
    .command('daemon')
    .description('run the Vigil daemon in the foreground (what systemd runs)')
    .option('-c, --config <file>', 'config file (default: VIGIL_CONFIG or /etc/vigil/vigil.yaml)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (overrides the config)')
    .action(async (o: { config?: string; logLevel?: string }, cmd: Command) => {
      const file = o.config ?? (cmd.parent?.opts<{ config?: string }>().config) ?? process.env.VIGIL_CONFIG ?? '/etc/vigil/vigil.yaml';
      const { runDaemon } = await import('../daemon/run.js');
      await runDaemon({ configFile: file, logLevel: o.logLevel });
    });
}
