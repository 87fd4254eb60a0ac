// The CLI entry. Only light modules load here: a command pulls in the daemon, models or
// inference code inside its own action, so `--help`, `--version` and API commands start fast.
import { Command } from 'commander';
import { isVigilError } from '../daemon/errors.js';
import { VERSION } from '../daemon/version.js';
import { resolveClient, resolveDataDir, type GlobalOptions } from './context.js';
import { registerCompletionCommand } from './completion.js';
import { registerConfigCommands } from './configCommand.js';
import { registerCountsCommands } from './counts.js';
import { registerFacesCommands } from './faces.js';
import { registerModelsCommands } from './models.js';
import { registerPlatesCommands } from './plates.js';
import { registerDaemonCommand } from './daemonCommand.js';
import { registerDemoCommand } from './demo.js';
import { registerDoctorCommand } from './doctor.js';
import { registerEventCommands } from './events.js';
import { exitQuietlyOnClosedPipe, hintFor } from './output.js';
import { registerStatusCommand } from './status.js';
import { registerStreamCommands } from './streams.js';

const EX_CONFIG = 78;

const program = new Command();
program
  .name('vigil')
  .description('Vigil edge vision daemon and its command line')
  .version(VERSION)
  .option('--url <url>', 'daemon address (default: VIGIL_URL, the config file, or http://127.0.0.1:8090)')
  .option('--token <token>', 'admin token (default: VIGIL_ADMIN_TOKEN or the config file)')
  .option('-c, --config <file>', 'config file to find the daemon from (default: VIGIL_CONFIG or /etc/vigil/vigil.yaml)')
  .option('--data-dir <dir>', 'data dir for local commands like `models` (default: VIGIL_DATA_DIR, the config file, /var/lib/vigil)')
  .showHelpAfterError()
  // A closed pipe ends a command quietly; the daemon keeps the default (its stdout is the journal).
  .hook('preAction', (_root, action) => {
    if (action.name() !== 'daemon') exitQuietlyOnClosedPipe();
  });

const client = () => resolveClient(program.opts<GlobalOptions>());

registerDaemonCommand(program);
registerDemoCommand(program);
registerDoctorCommand(program);
registerConfigCommands(program);
registerStreamCommands(program, client);
registerStatusCommand(program, client);
registerEventCommands(program, client);
registerCountsCommands(program, client);
registerFacesCommands(program, client);
registerModelsCommands(program, { dataDir: () => resolveDataDir(program.opts<GlobalOptions>()) });
registerCompletionCommand(program);
registerPlatesCommands(program, { dataDir: () => resolveDataDir(program.opts<GlobalOptions>()) });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (isVigilError(err)) {
    process.stderr.write(`${err.line()}\n`);
    const hint = hintFor(err.code);
    if (hint) process.stderr.write(`${hint}\n`);
    process.exitCode = err.code === 'VIGIL_ERR_CONFIG' || err.code === 'VIGIL_ERR_CONFIG_READ' ? EX_CONFIG : 1;
  } else {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
