import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CountingGeometry, LineConfig } from '../daemon/analytics/geometry/geometryConfig.js';
import { VigilError } from '../daemon/errors.js';
import type { CounterRow } from '../daemon/store/counterStore.js';
import type { ApiClient } from './client.js';
import { ago, output, table } from './format.js';

function point(s: string): [number, number] {
  const m = /^\s*([0-9.]+)\s*,\s*([0-9.]+)\s*$/.exec(s);
  if (!m) throw new VigilError('VIGIL_ERR_BAD_REQUEST', `"${s}" is not a point: write x,y with normalised values, e.g. 0.1,0.6`);
  return [Number(m[1]), Number(m[2])];
}

/** `vigil counts [--stream]`, `counts reset`, `counts geometry`, `counts add-line`, `counts add-zone`, `counts rm`. */
export function registerCountsCommands(program: Command, client: () => ApiClient): void {
  const counts = program.command('counts').description('line and zone counters (people and vehicle counting)');

  counts
    .command('show', { isDefault: true })
    .description('show counters: in, out and current per line and zone')
    .option('--stream <id>', 'only this stream')
    .option('--json', 'print JSON')
    .action(async (o: { stream?: string; json?: boolean }) => {
      const q = o.stream ? `?stream=${encodeURIComponent(o.stream)}` : '';
      const res = await client().get<{ counters: CounterRow[] }>(`/api/counts${q}`);
      const rows = res.counters;
      output(Boolean(o.json), res, () =>
        rows.length === 0
          ? 'No counters. Add a line with: vigil counts add-line STREAM NAME x1,y1 x2,y2'
          : table(['STREAM', 'ANALYTIC', 'KIND', 'NAME', 'IN', 'OUT', 'CURRENT', 'SINCE', 'LAST'],
              rows.map((r) => [r.streamId, r.analytic, r.kind, r.name, r.in, r.out, r.current ?? '', ago(r.since), ago(r.updatedAt)])));
    });

  counts
    .command('reset')
    .description('set counters back to zero (all, a stream, or one line/zone)')
    .option('--stream <id>', 'only this stream')
    .option('--name <line-or-zone>', 'only this line or zone (needs --stream)')
    .option('--json', 'print JSON')
    .action(async (o: { stream?: string; name?: string; json?: boolean }) => {
      const res = await client().post<{ reset: number }>('/api/counts/reset', { stream: o.stream, name: o.name });
      output(Boolean(o.json), res, () => `Reset ${res.reset} counter${res.reset === 1 ? '' : 's'}.`);
    });

  counts
    .command('geometry <stream>')
    .description('print a stream\'s lines and zones, or replace them from a JSON file')
    .option('--set <file>', 'JSON file {"lines":[...],"zones":[...]}')
    .action(async (stream: string, o: { set?: string }) => {
      const path = `/api/geometry/${encodeURIComponent(stream)}`;
      if (o.set) {
        let g: unknown;
        try {
          g = JSON.parse(readFileSync(o.set, 'utf8'));
        } catch (err) {
          throw new VigilError('VIGIL_ERR_BAD_REQUEST', `Cannot read ${o.set} as JSON: ${(err as Error).message}`);
        }
        await client().put(path, g);
      }
      output(true, await client().get(path), () => '');
    });

  counts
    .command('add-line <stream> <name> <p1> <p2>')
    .description('add or replace a counting line; points are normalised x,y (e.g. 0,0.6 1,0.6)')
    .option('--in <dir>', 'crossing that counts as in: Up, Down, Left, Right (or left/right side)')
    .option('--anchor <point>', 'bottom-center (default), center or top-center')
    .action(async (stream: string, name: string, p1: string, p2: string, o: { in?: string; anchor?: string }) => {
      const line: Record<string, unknown> = { name, points: [point(p1), point(p2)] };
      if (o.in) line.in = o.in;
      if (o.anchor) line.anchor = o.anchor;
      await edit(client(), stream, (g) => ({ ...g, lines: [...g.lines.filter((l) => l.name !== name), line as unknown as LineConfig] }));
      process.stdout.write(`Line ${name} set on ${stream}.\n`);
    });

  counts
    .command('add-zone <stream> <name> <points...>')
    .description('add or replace a zone: three or more normalised x,y points')
    .option('--no-events', 'count entries/exits without sending events')
    .option('--interval <s>', 'seconds between occupancy events', Number)
    .action(async (stream: string, name: string, pts: string[], o: { events?: boolean; interval?: number }) => {
      const zone = { name, polygon: pts.map(point), events: o.events !== false, ...(o.interval !== undefined ? { interval_s: o.interval } : {}) };
      await edit(client(), stream, (g) => ({ ...g, zones: [...g.zones.filter((z) => z.name !== name), zone] }));
      process.stdout.write(`Zone ${name} set on ${stream}.\n`);
    });

  counts
    .command('rm <stream> <name>')
    .description('remove a line or zone')
    .action(async (stream: string, name: string) => {
      let found = false;
      await edit(client(), stream, (g) => {
        const lines = g.lines.filter((l) => l.name !== name), zones = g.zones.filter((z) => z.name !== name);
        found = lines.length !== g.lines.length || zones.length !== g.zones.length;
        return { lines, zones };
      });
      if (!found) throw new VigilError('VIGIL_ERR_NOT_FOUND', `Stream ${stream} has no line or zone named ${name}`);
      process.stdout.write(`Removed ${name} from ${stream}.\n`);
    });
}

async function edit(c: ApiClient, stream: string, f: (g: CountingGeometry) => CountingGeometry): Promise<void> {
  const path = `/api/geometry/${encodeURIComponent(stream)}`;
  const g = await c.get<CountingGeometry>(path);
  const next = f({ lines: g.lines ?? [], zones: g.zones ?? [] });
  if (JSON.stringify(next) !== JSON.stringify(g)) await c.put(path, next);
}
