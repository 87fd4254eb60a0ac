import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { VigilError } from '../daemon/errors.js';
import type { ApiClient } from './client.js';

/** Stable CSV columns (never reordered; new ones go at the end). Keys not listed travel in `pipeline_data` as JSON. */
export const CSV_COLUMNS = [
  'seq', 'event_id', 'timestamp', 'time_iso', 'analytic_id', 'stream_id', 'node_num', 'stream_address',
  'primary_text', 'secondary_text', 'label', 'direction', 'area_name', 'line', 'confidence', 'count',
  'plate_number', 'plate_confidence', 'person_id', 'name', 'similarity', 'estimation', 'pipeline_data', 'crop_jpeg_base64',
] as const;

const PD_COLUMNS = ['label', 'direction', 'area_name', 'line', 'confidence', 'count', 'plate_number', 'plate_confidence', 'person_id', 'name', 'similarity', 'estimation'];

type Row = Record<string, unknown> & { seq: number; pipeline_data?: Record<string, unknown> };

export interface ExportOptions {
  since: number;
  until?: number;
  streams?: string;
  analytics?: string;
  format: 'jsonl' | 'csv';
  crops: boolean;
  /** Events per request (default 1000, the API's maximum). */
  pageSize?: number;
  /** Called after each page with the running total (progress display). */
  onPage?: (written: number, lastSeq: number) => void;
}

/** One CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
export function csvField(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV line of one event, in CSV_COLUMNS order. */
export function csvLine(e: Row): string {
  const pd = e.pipeline_data ?? {};
  const rest = Object.fromEntries(Object.entries(pd).filter(([k]) => !PD_COLUMNS.includes(k) && !['event_id', 'primary_text', 'secondary_text'].includes(k)));
  const ts = Number(e.timestamp);
  const values: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    seq: e.seq,
    event_id: pd.event_id,
    timestamp: e.timestamp,
    time_iso: Number.isFinite(ts) ? new Date(ts).toISOString() : '',
    analytic_id: e.analytic_id,
    stream_id: e.stream_id,
    node_num: e.node_num,
    stream_address: e.stream_address,
    primary_text: pd.primary_text,
    secondary_text: pd.secondary_text,
    ...(Object.fromEntries(PD_COLUMNS.map((k) => [k, pd[k]])) as Record<string, unknown>),
    pipeline_data: Object.keys(rest).length ? rest : '',
    crop_jpeg_base64: e.image_jpeg ?? e.jpeg ?? '',
  } as Record<(typeof CSV_COLUMNS)[number], unknown>;
  return CSV_COLUMNS.map((c) => csvField(values[c])).join(',');
}

/**
 * Streams stored events page by page (seq order, `since` exclusive, `until` inclusive) to `out`,
 * never holding more than one page; waits for `out` to drain. Returns how many were written.
 */
export async function exportEvents(client: ApiClient, o: ExportOptions, out: Writable): Promise<number> {
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  if (o.format === 'csv') await write(`${CSV_COLUMNS.join(',')}\n`);
  let since = o.since;
  let n = 0;
  const limit = o.pageSize ?? 1000;
  for (;;) {
    const q = new URLSearchParams({ since: String(since), limit: String(limit) });
    if (o.until !== undefined) q.set('before', String(o.until + 1));
    if (o.streams) q.set('stream_id', o.streams);
    if (o.analytics) q.set('analytic_id', o.analytics);
    if (o.crops) q.set('crops', '1');
    const page = await client.get<{ events: Row[]; next: { since: number } | null }>(`/api/events?${q}`);
    for (const e of page.events) {
      await write(o.format === 'csv' ? `${csvLine(e)}\n` : `${JSON.stringify(e)}\n`);
      n++;
    }
    o.onPage?.(n, page.events.at(-1)?.seq ?? since);
    if (!page.next || page.events.length === 0) return n;
    since = page.next.since;
  }
}

function seqOption(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `--${name} must be a non-negative integer seq, not "${v}"`);
  return Number(v);
}

/** `vigil events export`: registered by cli/events.ts on its `events` command. */
export function registerExportCommand(events: Command, client: () => ApiClient): void {
  events
    .command('export')
    .description('export stored events in seq order as JSON lines or CSV (streamed page by page)')
    .option('--since <seq>', 'only events after this seq', '0')
    .option('--until <seq>', 'only events up to this seq (inclusive)')
    .option('--stream <ids>', 'comma list of stream ids')
    .option('--analytic <ids>', 'comma list of analytic ids (NFV4-PC, NFV4-FR, ...)')
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--crops', 'include the base64 JPEG crop (jsonl: the event key; csv: crop_jpeg_base64)')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (o: { since: string; until?: string; stream?: string; analytic?: string; format: string; crops?: boolean; out?: string }) => {
      if (o.format !== 'jsonl' && o.format !== 'csv') throw new VigilError('VIGIL_ERR_BAD_REQUEST', `--format must be jsonl or csv, not "${o.format}"`);
      const opts: ExportOptions = {
        since: seqOption('since', o.since) ?? 0,
        until: seqOption('until', o.until),
        streams: o.stream,
        analytics: o.analytic,
        format: o.format,
        crops: Boolean(o.crops),
        // A live counter only when a person watches a terminal and the events go to a file.
        onPage: o.out && process.stderr.isTTY ? (n, seq) => process.stderr.write(`\rexporting: ${n} events (seq ${seq})`) : undefined,
      };
      const out = o.out ? createWriteStream(o.out) : process.stdout;
      const n = await exportEvents(client(), opts, out);
      if (o.out) {
        await new Promise<void>((res, rej) => (out as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? rej(err) : res())));
        process.stderr.write(`${process.stderr.isTTY ? '\r' : ''}${n} events written to ${o.out}\n`);
      }
    });
}
