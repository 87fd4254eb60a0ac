// What every bench prints beside its figures: load average, CPU time (this process, its
// main thread, its children), event-loop lag, GC share; and an optional competing load.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, performance as perf, PerformanceObserver } from 'node:perf_hooks';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU-ms in a /proc stat file: its own (utime+stime) and its reaped children's (cutime+cstime); zeros once it is gone. */
export function procCpuMs(path: string): { own: number; reaped: number } {
  try {
    const s = readFileSync(path, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { own: (Number(f[11]) + Number(f[12])) * TICK_MS, reaped: (Number(f[13]) + Number(f[14])) * TICK_MS };
  } catch {
    return { own: 0, reaped: 0 };
  }
}

/** The competing load's and the RTSP server's pids: children of the bench, but none of the product's CPU. */
const notMeasured = new Set<number>();

/** Leaves a child (and what it starts) out of every CPU figure: the camera side of a bench. */
export function notProduct(pid: number | undefined): void {
  if (pid !== undefined) notMeasured.add(pid);
}

/** Pids of every live descendant of `root`, less those marked `notProduct` and what they started. */
export function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  const out: number[] = [];
  const walk = (p: number): void => { for (const [c, pp] of parent) if (pp === p && !notMeasured.has(c)) { out.push(c); walk(c); } };
  walk(root);
  return out;
}

/** CPU-ms so far: this process (all threads), its main thread, its children (live + reaped). */
export interface CpuSample { process: number; main: number; children: number; t: number }

export function cpuNow(): CpuSample {
  const u = process.cpuUsage();
  const live = descendants(process.pid).reduce((a, p) => {
    const c = procCpuMs(`/proc/${p}/stat`);
    return a + c.own + c.reaped;
  }, 0);
  const reaped = procCpuMs('/proc/self/stat').reaped;
  return { process: (u.user + u.system) / 1000, main: readMain(), children: live + reaped, t: performance.now() };
}

function readMain(): number {
  return procCpuMs(`/proc/self/task/${process.pid}/stat`).own;
}

/** Differences between two samples. */
export function cpuSince(a: CpuSample, b: CpuSample = cpuNow()): { wallMs: number; processMs: number; mainMs: number; childrenMs: number; totalMs: number } {
  const processMs = b.process - a.process;
  const childrenMs = Math.max(0, b.children - a.children);
  return { wallMs: b.t - a.t, processMs, mainMs: b.main - a.main, childrenMs, totalMs: processMs + childrenMs };
}

/**
 * Event-loop lag p99 and the GC share of the main thread over a window: GC pause time over
 * the time the loop was busy (both wall-clock, so a preempted thread on a loaded box does not
 * inflate the share); main-thread CPU-ms beside them.
 */
export function mainThreadWatch(): { stop(): { lagP99Ms: number; lagMaxMs: number; gcMs: number; busyMs: number; mainCpuMs: number; gcShare: number } } {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMs += e.duration; });
  obs.observe({ entryTypes: ['gc'] });
  const m0 = readMain();
  const elu0 = perf.eventLoopUtilization();
  return {
    stop() {
      const busyMs = perf.eventLoopUtilization(elu0).active;
      h.disable();
      obs.disconnect();
      const mainCpuMs = readMain() - m0;
      // The loop-delay histogram is in ns and includes the 10 ms sampling interval itself.
      const lag = (v: number): number => Math.max(0, v / 1e6 - 10);
      return { lagP99Ms: lag(h.percentile(99)), lagMaxMs: lag(h.max), gcMs, busyMs, mainCpuMs, gcShare: busyMs > 0 ? Math.min(1, gcMs / busyMs) : 0 };
    },
  };
}

/** `load average 1.2 0.9 0.5`, to print beside every figure. */
export function loadLine(): string {
  return `load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`;
}

/** True when the bench was asked to run beside a busy core (`--load` or VIGIL_BENCH_LOAD=1). */
export function wantsLoad(): boolean {
  return process.argv.includes('--load') || process.env.VIGIL_BENCH_LOAD === '1';
}

/** True for the long variants (`--full` or VIGIL_BENCH_FULL=1): more sizes, streams and sources. */
export function wantsFull(): boolean {
  return process.argv.includes('--full') || process.env.VIGIL_BENCH_FULL === '1';
}

/** Keeps one core busy in a separate process until stopped (a competing workload). */
export function competingLoad(): { stop(): void } {
  // Spins, and ends itself once its bench is gone (a killed bench runs no finally).
  const spin = `for (let i = 0; ; i++) if (i % 1e8 === 0 && process.ppid !== ${process.pid}) process.exit(0);`;
  const child: ChildProcess = spawn(process.execPath, ['-e', spin], { stdio: 'ignore' });
  notProduct(child.pid);
  return { stop: () => { if (child.exitCode === null) child.kill('SIGKILL'); } };
}

/** Runs `fn` with a competing one-core load when asked, printing which. */
export async function withOptionalLoad<T>(fn: () => Promise<T>): Promise<T> {
  const load = wantsLoad() ? competingLoad() : null;
  console.log(load ? 'competing load: one core kept busy by another process' : 'competing load: none (pass --load to add one busy core)');
  try {
    return await fn();
  } finally {
    load?.stop();
  }
}

export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');
export const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');

/** Execution providers for the benches: VIGIL_BENCH_PROVIDERS=cuda,cpu (or tensorrt,cuda,cpu) on a GPU box; default cpu. */
export function benchProviders(): string[] {
  const list = (process.env.VIGIL_BENCH_PROVIDERS ?? 'cpu').split(',').map((p) => p.trim()).filter(Boolean);
  return list.includes('cpu') ? list : [...list, 'cpu'];
}
