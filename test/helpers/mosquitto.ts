import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { reapOnExit } from './reaper.js';

const MOSQUITTO = process.env.VIGIL_MOSQUITTO ?? '/usr/sbin/mosquitto';

/** A real Mosquitto broker on 127.0.0.1 with a free port and a temp config; stop/start keep the port. */
export interface Broker {
  readonly port: number;
  readonly url: string;
  /** Starts (or restarts) the broker; resolves once it accepts connections. */
  start(): Promise<void>;
  /** SIGTERM (saves persistence, like `systemctl stop`) or SIGKILL; resolves when it has exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  logs(): string;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/** Starts Mosquitto with persistence on (so persistent QoS 1 sessions survive a stop/start). Cleaned up after the test. */
export async function startMosquitto(t: { after(fn: () => unknown): void }): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-mqtt-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      // Started as root, Mosquitto drops to the `mosquitto` user, which cannot write the private
      // temp folder: persistence would silently not be saved. Stay the user that runs the tests.
      `user ${userInfo().username}`,
      'persistence true',
      `persistence_location ${dir}/`,
      'max_queued_messages 0',
      'max_inflight_messages 0',
      'log_dest stdout',
      'log_type error',
      'log_type warning',
      'log_type notice',
    ].join('\n') + '\n',
  );
  let child: ChildProcess | null = null;
  let out = '';
  let exited: Promise<void> = Promise.resolve();
  const broker: Broker = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async start() {
      if (child) return;
      const c = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      c.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      exited = new Promise((res) => c.once('exit', () => res()));
      c.once('exit', reapOnExit(() => c.kill('SIGKILL')));
      const deadline = Date.now() + 10_000;
      while (!(await canConnect(port))) {
        if (c.exitCode !== null || Date.now() > deadline) throw new Error(`mosquitto did not start on ${port}:\n${out}`);
        await new Promise((r) => setTimeout(r, 30));
      }
    },
    async stop(signal = 'SIGTERM') {
      const c = child;
      if (!c) return;
      child = null;
      c.kill(signal);
      await exited;
    },
    logs: () => out,
  };
  t.after(async () => {
    await broker.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  await broker.start();
  return broker;
}
