import type { Command } from 'commander';
import type { ApiClient } from './client.js';
import { ago, output, table } from './format.js';

interface Status {
  node_num: number;
  version: string;
  uptime_s: number;
  streams: { id: string; url: string; state: string; fps?: number; frames?: number; reconnects?: number; since?: number; lastError?: { code: string; message: string } }[];
  models?: { model: string; provider?: string; inferencesPerSec?: number; p50Ms?: number; p99TotalMs?: number; queueDepth?: number; drops?: number }[];
  store?: { last_seq?: number; size_bytes?: number };
  subscribers?: number;
  pipeline?: { streamId: string; framesAnalysed: number; framesDropped: number; observations: number }[];
  sockets?: { uws: 'native' | 'fallback'; detail: string };
}

/** `vigil status`: daemon, streams, models and store at a glance. */
export function registerStatusCommand(program: Command, client: () => ApiClient): void {
  program
    .command('status')
    .description('show daemon, stream and model health')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const s = await client().get<Status>('/api/status');
      output(Boolean(o.json), s, () => {
        const lines = [
          `Vigil ${s.version} node ${s.node_num}, up ${Math.round(s.uptime_s)}s, ${s.subscribers ?? 0} subscriber(s), last event seq ${s.store?.last_seq ?? 0}`,
          '',
          s.streams.length
            ? table(
                ['STREAM', 'STATE', 'FPS', 'FRAMES', 'ANALYSED', 'DROPPED', 'RECONNECTS', 'SINCE', 'LAST ERROR'],
                s.streams.map((r) => {
                  const p = s.pipeline?.find((x) => x.streamId === r.id);
                  return [r.id, r.state, r.fps?.toFixed(1), r.frames, p?.framesAnalysed, p?.framesDropped, r.reconnects, ago(r.since), r.lastError ? `${r.lastError.code}: ${r.lastError.message}` : ''];
                }),
              )
            : 'No streams configured.',
        ];
        // The JavaScript socket fallback costs CPU per subscriber: say so where people look.
        if (s.sockets?.uws === 'fallback') lines.push('', `Sockets: ${s.sockets.detail}`);
        if (s.models?.length) {
          lines.push('', table(['MODEL', 'PROVIDER', 'INF/S', 'P50 MS', 'P99 TOTAL MS', 'QUEUE', 'DROPPED'], s.models.map((m) => [m.model, m.provider, m.inferencesPerSec?.toFixed(1), m.p50Ms?.toFixed(1), m.p99TotalMs?.toFixed(1), m.queueDepth, m.drops])));
        }
        return lines.join('\n');
      });
    });
}
