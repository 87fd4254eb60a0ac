import type { Command } from 'commander';

/** `vigil config validate FILE`: every problem printed at once, exit 78 (EX_CONFIG) when invalid. */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('configuration file tools');
  config
    .command('validate <file>')
    .description('check a config file against the schema (env overrides applied)')
    .option('--print', 'print the effective config (defaults filled, secrets masked)')
    .action(async (file: string, o: { print?: boolean }) => {
      const [{ loadConfig }, { maskUrl }] = await Promise.all([import('../config/loader.js'), import('../daemon/events/mask.js')]);
      const cfg = loadConfig(file);
      if (o.print) {
        const shown = {
          ...cfg,
          server: { ...cfg.server, admin_token: cfg.server.admin_token ? '***' : undefined, tokens: cfg.server.tokens.map(() => '***') },
          mqtt: cfg.mqtt ? { ...cfg.mqtt, password: cfg.mqtt.password ? '***' : undefined } : null,
        };
        process.stdout.write(`${maskUrl(JSON.stringify(shown, null, 2))}\n`);
      }
      process.stdout.write(`${file}: valid (${cfg.streams.length} stream${cfg.streams.length === 1 ? '' : 's'}).\n`);
    });
}
