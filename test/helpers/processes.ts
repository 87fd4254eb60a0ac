import { readdirSync, readFileSync } from 'node:fs';

/** Live processes whose command line contains every given fragment (Linux /proc); zombies excluded. */
export function findProcesses(...fragments: string[]): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (!cmdline || !fragments.every((f) => cmdline.includes(f))) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue;
      found.push({ pid: Number(name), cmdline });
    } catch {
      /* exited while we looked */
    }
  }
  return found;
}

/** SIGKILLs leftover processes matching the fragments (a test's own, by its unique URL); returns how many. */
export function killProcesses(...fragments: string[]): number {
  const procs = findProcesses(...fragments).filter((p) => p.pid !== process.pid);
  for (const p of procs) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  return procs.length;
}
