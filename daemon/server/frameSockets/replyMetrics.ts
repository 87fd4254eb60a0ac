import { Counter, type Registry } from 'prom-client';

/** Frame-socket replies by socket and kind (result, failed, skipped). */
export function registerFrameReplyMetrics(registry: Registry, replies: () => { socket: string; kind: string; count: number }[]): void {
  new Counter({
    name: 'vigil_frame_replies_total',
    help: 'Frame-socket replies by socket and kind: result, failed (error reply), skipped (queue full or rate)',
    labelNames: ['socket', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      let list: { socket: string; kind: string; count: number }[] = [];
      try {
        list = replies();
      } catch {
        // a stopping part reads as nothing
      }
      for (const r of list) this.inc({ socket: r.socket, kind: r.kind }, r.count);
    },
  });
}
