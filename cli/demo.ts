import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../daemon/version.js';
import type { FetchItem } from '../models/fetcher.js';
import { ApiClient } from './client.js';
import { eventLine, followEvents } from './events.js';

/** The demo clip: a busy street, pinned by commit and sha256 (see README, "Demo"). */
export const DEMO_CLIP: FetchItem = {
  file: 'video_street_pedestrians_640x360.mp4',
  source: { kind: 'url', url: 'https://raw.githubusercontent.com/Kazuhito00/DM-Count-ONNX-Sample/6081f8f5ec23b282993fee70dbdb665bbb96293e/sample.mp4' },
  sha256: '08c07201e623ba13e686e944197315e440b1ef40d45bdb8e940b8fa97fea1ac2',
};

/** VIGIL_*_MIRROR, else the shared folder beside the checkout when it exists (CI and dev machines). */
function mirror(envName: string, sub: string): string | undefined {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  const beside = resolve(PACKAGE_ROOT, '..', 'shared', sub);
  return existsSync(beside) ? beside : undefined;
}

/** `vigil demo`: a throw-away daemon on a looping street clip, printing its events live. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run a temporary daemon on a sample street clip with people counting and print its events')
    .option('--port <n>', 'server port (default: a free one)', Number)
    .option('--events <n>', 'exit after this many events', Number)
    .option('--duration <s>', 'exit after this many seconds', Number)
    .option('--log-level <level>', 'daemon log level (logs go to stderr)', 'warn')
    .action(async (o: { port?: number; events?: number; duration?: number; logLevel: string }) => {
      // The daemon is loaded only when a demo actually runs (see cli/main.ts).
      const [{ checkConfig }, { createRootLogger }, { createDaemon }, { ensureFile }] = await Promise.all([
        import('../config/loader.js'), import('../daemon/log.js'), import('../daemon/main.js'), import('../models/fetcher.js'),
      ]);
      const dataDir = await mkdtemp(join(tmpdir(), 'vigil-demo-'));
      const log = createRootLogger(o.logLevel, process.stderr);
      const token = randomBytes(12).toString('hex');
      let daemon: Awaited<ReturnType<typeof createDaemon>> | undefined;
      const cleanup = async () => {
        await daemon?.stop();
        await rm(dataDir, { recursive: true, force: true });
      };
      try {
        process.stderr.write('Fetching the demo clip and models (verified by sha256)...\n');
        const clip = await ensureFile(DEMO_CLIP, { dataDir, mirrorDir: mirror('VIGIL_MEDIA_MIRROR', 'media'), log });
        const config = checkConfig({
          data_dir: dataDir,
          log_level: o.logLevel,
          server: { host: '127.0.0.1', port: o.port ?? 0, admin_token: token },
          // Models fetched by scripts/setup.sh into .data/models serve as the mirror when no other is set.
          models: { mirror: mirror('VIGIL_MODEL_MIRROR', 'models') ?? (existsSync(join(PACKAGE_ROOT, '.data', 'models')) ? join(PACKAGE_ROOT, '.data', 'models') : null) },
          streams: [{ id: 'street', name: 'Street demo', url: clip, fps: 5, loop: true, analytics: ['people-counting'] }],
        });
        daemon = await createDaemon(config, log);
        await daemon.start();
        const url = daemon.address();
        process.stderr.write(
          `Vigil demo running at ${url} (admin token ${token}).\n` +
            `  Events socket: ${url.replace('http', 'ws')}/event_channel?authorization=${token}\n` +
            `  Try in another terminal: vigil --url ${url} --token ${token} status\n` +
            'Events (Ctrl-C to stop):\n',
        );
        let seen = 0;
        const client = new ApiClient({ url, token });
        const done = new Promise<void>((resolveDone) => {
          if (o.duration) setTimeout(resolveDone, o.duration * 1000).unref();
          process.once('SIGINT', () => resolveDone());
          process.once('SIGTERM', () => resolveDone());
          void followEvents(client, {}, (msg) => {
            if (!('analytic_id' in msg)) {
              if (msg.type === 'status' && msg.lastError) process.stderr.write(`[status] ${String(msg.id)}: ${String(msg.state)} ${JSON.stringify(msg.lastError)}\n`);
              return;
            }
            // Events come in bursts (several people confirmed in one frame) and keep arriving while
            // the daemon shuts down: print exactly --events of them.
            if (o.events && seen >= o.events) return;
            process.stdout.write(`${eventLine(msg as unknown as Parameters<typeof eventLine>[0])}\n`);
            if (o.events && ++seen >= o.events) resolveDone();
          }).then(resolveDone, (err: Error) => {
            process.stderr.write(`${err.message}\n`);
            resolveDone();
          });
        });
        await done;
      } finally {
        await cleanup();
      }
    });
}
