import { execFile } from 'node:child_process';
import type { Logger } from './log.js';

/**
 * sd_notify through systemd-notify(1): Node has no unix datagram sockets, and a
 * native addon for four messages is not worth its build. The unit sets
 * NotifyAccess=all because the message comes from a child process; --pid names us.
 * Without NOTIFY_SOCKET (not under systemd) every call is a no-op.
 */
export class SystemdNotifier {
  private watchdogTimer: NodeJS.Timeout | undefined;
  private readonly enabled: boolean;

  constructor(private readonly log: Logger, private readonly env: NodeJS.ProcessEnv = process.env) {
    this.enabled = Boolean(env.NOTIFY_SOCKET);
  }

  /** Sends `KEY=VALUE` lines, e.g. `READY=1`. */
  notify(...states: string[]): void {
    if (!this.enabled) return;
    execFile('systemd-notify', [`--pid=${process.pid}`, ...states], { env: this.env, timeout: 5000 }, (err) => {
      if (err) this.log.warn({ err: err.message, states }, 'systemd-notify failed');
    });
  }

  ready(status: string): void {
    this.notify('READY=1', `STATUS=${status}`);
  }

  stopping(): void {
    this.stopWatchdog();
    this.notify('STOPPING=1');
  }

  /**
   * Pings WATCHDOG=1 at half of WatchdogSec, but only while `healthy()` holds,
   * so systemd restarts a daemon whose pipeline is stuck.
   */
  startWatchdog(healthy: () => boolean): void {
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!this.enabled || !usec) return;
    const pid = Number(this.env.WATCHDOG_PID);
    if (pid && pid !== process.pid) return;
    const every = Math.max(1000, usec / 1000 / 2);
    this.watchdogTimer = setInterval(() => {
      if (healthy()) this.notify('WATCHDOG=1');
      else this.log.warn('pipeline unhealthy: withholding the systemd watchdog ping');
    }, every);
    this.watchdogTimer.unref();
  }

  stopWatchdog(): void {
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
  }
}
