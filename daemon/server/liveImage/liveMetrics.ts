import { Counter, Gauge, type Registry } from 'prom-client';
import type { LiveStats } from './liveSocket.js';

/**
 * Live-view series on the daemon's registry: encodes and frames sent per stream, so
 * "encoded once per interval, shared by every viewer" can be read off /metrics
 * (`vigil_live_frames_sent_total` / `vigil_live_encodes_total` = viewers sharing an encode).
 */
export function registerLiveMetrics(registry: Registry, stats: () => LiveStats): void {
  const registers = [registry];
  const read = (): LiveStats => {
    try {
      return stats();
    } catch {
      return { viewers: 0, streams: [] };
    }
  };
  new Gauge({
    name: 'vigil_live_viewers',
    help: 'Open live image socket connections (/ws/live)',
    registers,
    collect() {
      this.set(read().viewers);
    },
  });
  for (const [name, help, key] of [
    ['vigil_live_encodes_total', 'JPEG encodes of live frames, by stream (one per variant and interval, shared by all viewers)', 'encodes'],
    ['vigil_live_frames_sent_total', 'Live frames sent to viewers, by stream', 'sent'],
    ['vigil_live_frames_skipped_total', 'Live frames not sent because a viewer\'s link lagged, by stream', 'skipped'],
  ] as const) {
    new Counter({
      name,
      help,
      labelNames: ['stream'],
      registers,
      collect() {
        this.reset();
        for (const s of read().streams) this.inc({ stream: s.stream }, s[key]);
      },
    });
  }
}
