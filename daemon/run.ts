import { loadConfig } from '../config/loader.js';
import { isVigilError, toVigilError } from './errors.js';
import { exampleTokens } from './exampleTokens.js';
import { createRootLogger, type Logger } from './log.js';
import { createDaemon, type Daemon } from './main.js';
import { SystemdNotifier } from './systemd.js';

const EX_CONFIG = 78;
/** Shorter than the unit's TimeoutStopSec (15 s), so we exit on our own terms. */
const HARD_EXIT_MS = 10_000;

export interface RunOptions {
  configFile: string;
  logLevel?: string;
}

/**
 * The process around the daemon: config, root logger, signals (TERM/INT stop,
 * HUP reload), systemd notifications, and exit codes systemd can act on.
 */
export async function runDaemon(opts: RunOptions): Promise<void> {
  // Files the daemon creates (database, tokens, model cache) are not for other users: 0640 at most.
  process.umask(0o027);
  let config;
  try {
    config = loadConfig(opts.configFile);
  } catch (err) {
    const e = toVigilError(err, 'VIGIL_ERR_CONFIG');
    process.stderr.write(`${e.line()}\n`);
    process.exit(e.code === 'VIGIL_ERR_CONFIG' || e.code === 'VIGIL_ERR_CONFIG_READ' ? EX_CONFIG : 1);
  }
  if (opts.logLevel) config.log_level = opts.logLevel;
  const examples = exampleTokens([...(config.server.admin_token ? [config.server.admin_token] : []), ...config.server.tokens]);
  if (examples.length) {
    // The demo (vigil demo) makes its own random token; a service must not run with a published one.
    process.stderr.write(`VIGIL_ERR_EXAMPLE_TOKEN: ${opts.configFile} uses the example token ${examples.join(', ')}; anyone who read the docs could use it. Set server.admin_token (and server.tokens) to your own, e.g. $(openssl rand -hex 16).\n`);
    process.exit(EX_CONFIG);
  }
  const log = createRootLogger(config.log_level);
  const systemd = new SystemdNotifier(log);

  // A SIGHUP during start-up would otherwise kill the process (its default action): keep it for later.
  // One listener for the whole life: swapping listeners leaves a moment with none.
  let pendingHup = false;
  let hup: (() => void) | undefined;
  process.on('SIGHUP', () => {
    if (hup) return hup();
    pendingHup = true;
    log.info('SIGHUP during start-up: the config is re-read once the daemon runs');
  });
  // TERM/INT are handled from the first moment: during start-up their default action would kill
  // the process mid-way (no clean stop, no "stopped"). The stop then runs once start-up ends.
  let running: Daemon | undefined; // set once start-up has ended
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, running ? 'stopping' : 'stopping once start-up ends');
    systemd.stopping();
    const hardExit = setTimeout(() => {
      log.error('shutdown took longer than 10 s: exiting anyway');
      process.exit(1);
    }, HARD_EXIT_MS);
    hardExit.unref();
    if (running) stopStarted(running, log);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  let daemon: Daemon;
  try {
    daemon = await createDaemon(config, log, { configFile: opts.configFile });
    await daemon.start();
  } catch (err) {
    const e = toVigilError(err);
    log.fatal({ code: e.code }, e.message);
    process.stderr.write(`${e.line()}\n`);
    process.exit(1);
  }
  running = daemon;
  if (stopping) {
    stopStarted(daemon, log);
    return;
  }
  systemd.ready(`${daemon.streamCount()} stream(s), listening on ${daemon.address()}`);
  systemd.startWatchdog(() => daemon.healthy());

  hup = () => void reload(daemon, opts, log);
  if (pendingHup) hup();
  // A listener's failure is logged with its context, never fatal (DESIGN.md section 3.5).
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));
}

/** Stops a started daemon and exits: 0 once every part stopped, 1 when stopping failed. */
function stopStarted(daemon: Daemon, log: Logger): void {
  daemon
    .stop()
    .then(() => {
      log.info('stopped');
      process.exit(0);
    })
    .catch((err: unknown) => {
      log.error({ err }, 'error while stopping');
      process.exit(1);
    });
}

async function reload(daemon: Daemon, opts: RunOptions, log: Logger): Promise<void> {
  try {
    const next = loadConfig(opts.configFile);
    if (opts.logLevel) next.log_level = opts.logLevel;
    await daemon.reload(next);
  } catch (err) {
    const msg = isVigilError(err) ? err.line() : String(err);
    log.error({ err: msg }, 'SIGHUP: the new config was not applied; the running config stays');
  }
}
