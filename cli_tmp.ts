import { Command } from 'commander';
import { registerModelsCommands } from '/work/main/cli/models.ts';
import { silentLogger } from '/work/main/daemon/log.ts';
const p = new Command('vigil');
registerModelsCommands(p, { dataDir: () => process.env.DD ?? '/tmp/vigil-cli', log: silentLogger() });
await p.parseAsync(process.argv);
