import type { Command } from 'commander';
import { VigilError } from '../daemon/errors.js';
import { unauthorizedSentence, type ApiClient } from './client.js';
import { registerExportCommand } from './eventsExport.js';
import { output, table } from './format.js';

interface EventRow {
  seq: number;
  analytic_id: string;
  stream_id: string;
  timestamp: string;
  pipeline_data: Record<string, unknown> & { event_id: string; primary_text?: string; secondary_text?: string };
}

/** One human line per event: what `events tail` and `vigil demo` print. */
export function eventLine(e: EventRow): string {
  const d = e.pipeline_data;
  const when = new Date(Number(e.timestamp)).toISOString().replace('T', ' ').replace('Z', '');
  const extra = ['event_type', 'track_id', 'dwell_s', 'count', 'line', 'direction', 'name', 'plate_number', 'estimation', 'area_name']
    .filter((k) => d[k] !== undefined && d[k] !== '')
    .map((k) => `${k}=${String(d[k])}`)
    .join(' ');
  return `${when}  #${e.seq}  ${e.analytic_id}  ${e.stream_id}  ${d.primary_text ?? ''}${d.secondary_text ? ` / ${d.secondary_text}` : ''}  ${extra}`.trimEnd();
}

/** A time given as Unix ms or anything Date parses (ISO 8601). */
function timeOption(name: string, v: string): number {
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `--${name} must be an ISO 8601 time or Unix ms, not "${v}"`);
  return ms;
}

/** `vigil events ls|tail`. */
export function registerEventCommands(program: Command, client: () => ApiClient): void {
  const events = program.command('events').description('query and follow analytics events');

  events
    .command('ls')
    .description('list stored events, newest first')
    .option('--stream <ids>', 'comma list of stream ids')
    .option('--analytic <ids>', 'comma list of analytic ids (NFV4-PC, NFV4-FR, ...)')
    .option('--since <seq>', 'only events after this seq (then oldest first)')
    .option('--plate <pattern>', 'plate number, * wildcards (e.g. B12*)')
    .option('--person <name>', 'face events of a person (name or person id)')
    .option('--from <time>', 'only events at or after this time (ISO 8601 or Unix ms)')
    .option('--to <time>', 'only events before this time (ISO 8601 or Unix ms)')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action(async (o: { stream?: string; analytic?: string; since?: string; plate?: string; person?: string; from?: string; to?: string; limit: string; json?: boolean }) => {
      const q = new URLSearchParams({ limit: o.limit });
      if (o.person) q.set('person', o.person);
      if (o.from) q.set('from', String(timeOption('from', o.from)));
      if (o.to) q.set('to', String(timeOption('to', o.to)));
      if (o.stream) q.set('stream_id', o.stream);
      if (o.analytic) q.set('analytic_id', o.analytic);
      if (o.since) q.set('since', o.since);
      if (o.plate) q.set('plate', o.plate);
      const res = await client().get<{ events: EventRow[] } | EventRow[]>(`/api/events?${q}`);
      const rows = Array.isArray(res) ? res : res.events;
      output(Boolean(o.json), rows, () =>
        rows.length === 0
          ? 'No events.'
          : table(
              ['SEQ', 'TIME', 'ANALYTIC', 'STREAM', 'TEXT', 'EVENT ID'],
              rows.map((e) => [e.seq, new Date(Number(e.timestamp)).toISOString(), e.analytic_id, e.stream_id, e.pipeline_data.primary_text, e.pipeline_data.event_id]),
            ),
      );
    });

  registerExportCommand(events, client);

  events
    .command('tail')
    .description('follow live events from the event socket')
    .option('--stream <ids>', 'comma list of stream ids')
    .option('--analytic <ids>', 'comma list of analytic ids')
    .option('--since <seq>', 'replay stored events after this seq first')
    .option('--json', 'print each message as one JSON line (crops dropped)')
    .action(async (o: { stream?: string; analytic?: string; since?: string; json?: boolean }) => {
      const c = client();
      await followEvents(c, { stream_id: o.stream, analytic_id: o.analytic, since: o.since }, (msg) => {
        if (o.json) process.stdout.write(`${JSON.stringify(msg)}\n`);
        else if ('analytic_id' in msg) process.stdout.write(`${eventLine(msg as unknown as EventRow)}\n`);
        else if (msg.type === 'status' || msg.type === 'gap' || msg.type === 'error') process.stdout.write(`[${String(msg.type)}] ${JSON.stringify(msg)}\n`);
      });
    });
}

/** Connects to /event_channel and calls onMessage for each message until the socket closes or SIGINT. */
export async function followEvents(c: ApiClient, filters: Record<string, string | undefined>, onMessage: (m: Record<string, unknown>) => void): Promise<void> {
  const { default: WebSocket } = await import('ws');
  const u = new URL('/event_channel', c.url);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const [k, v] of Object.entries(filters)) if (v) u.searchParams.set(k, v);
  u.searchParams.set('crops', '0');
  if (c.token) u.searchParams.set('authorization', c.token);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(u);
    const stop = () => ws.close();
    process.once('SIGINT', stop);
    ws.on('message', (data) => {
      try {
        onMessage(JSON.parse(String(data)) as Record<string, unknown>);
      } catch {
        // Not JSON: ignore rather than die mid-follow.
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      reject(res.statusCode === 401
        ? new VigilError('VIGIL_ERR_UNAUTHORIZED', unauthorizedSentence(c.url, c.token))
        : new VigilError('VIGIL_ERR_INTERNAL', `The event socket answered HTTP ${res.statusCode}.`));
    });
    ws.on('error', (err) => reject(new VigilError('VIGIL_ERR_DAEMON_DOWN', `Cannot reach the event socket at ${c.url} (${(err as NodeJS.ErrnoException).code ?? err.message}). Is the daemon running?`)));
    ws.on('close', () => {
      process.off('SIGINT', stop);
      resolve();
    });
  });
}
