// Starts the daemon stand-in (producer.ts) in a process of its own and waits for its port.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from './paths.js';
import { reapOnExit } from './reaper.js';

const PRODUCER = resolve(ROOT, 'test/helpers/producer.ts');
/** The token producer.ts accepts (importing it would run the script). */
export const PRODUCER_TOKEN = 'producer-token-123';

export interface ProducerProcess {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
  /** Its stderr so far: the JSON log lines when PRODUCER_LOG is set. */
  log(): string;
}

/** `eventsPerSecond` into the SQLite file `file`; killed (SIGKILL) after the test if still running. */
export async function startProducer(file: string, eventsPerSecond: number, t: { after(fn: () => unknown): void }, env: Record<string, string> = {}): Promise<ProducerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', PRODUCER, file, String(eventsPerSecond)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.once('exit', reapOnExit(() => child.kill('SIGKILL')));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`producer did not start:\n${err}${out}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    void exited.then(() => rej(new Error(`producer exited:\n${err}${out}`)));
  });
  return { child, port, exited, log: () => err };
}
