import type { Command } from 'commander';
import type { ApiClient } from './client.js';
import { ago, output, table } from './format.js';

interface StreamRow {
  id: string;
  url: string;
  enabled: boolean;
  origin?: string;
  analytics?: string[];
  fps?: number;
  health?: { state?: string; fps?: number; reconnects?: number; since?: number; lastError?: { code: string; message: string } };
}

/** `vigil stream add|set|ls|rm|enable|disable|restart`: changes apply live, without a restart. */
export function registerStreamCommands(program: Command, client: () => ApiClient): void {
  const stream = program.command('stream').alias('streams').description('manage camera streams (applied live)');

  stream
    .command('add <id> <url>')
    .description('add a stream (RTSP, file or HTTP/MJPEG URL)')
    .option('--fps <n>', 'analytics frames per second', Number)
    .option('--analytics <list>', 'comma list: people-counting,vehicle-counting,crowd-estimation,face-recognition,plate-recognition')
    .option('--transport <tcp|udp>', 'RTSP transport')
    .option('--no-loop', 'play a file source once instead of looping it')
    .option('--keyframes-only', 'decode keyframes only (cheap at low fps)')
    .option('--hwaccel <preset>', 'none, cuda, jetson or vaapi')
    .option('--disabled', 'add it disabled')
    .option('--json', 'print JSON')
    .action(async (id: string, url: string, o: Record<string, unknown>) => {
      const body: Record<string, unknown> = { id, url };
      if (o.fps !== undefined) body.fps = o.fps;
      if (typeof o.analytics === 'string') body.analytics = o.analytics.split(',').map((s) => s.trim()).filter(Boolean);
      if (o.transport) body.transport = o.transport;
      if (o.loop === false) body.loop = false;
      if (o.keyframesOnly) body.keyframes_only = true;
      if (o.hwaccel) body.hwaccel = o.hwaccel;
      if (o.disabled) body.enabled = false;
      const { stream: res } = await client().post<{ stream: StreamRow }>('/api/streams', body);
      output(Boolean(o.json), res, () => `Added stream ${res.id} (${res.url}).`);
    });

  stream
    .command('set <id> [url]')
    .alias('edit')
    .description('change settings of a stream added with `stream add` (restarts it); url: a new source')
    .option('--name <name>', 'display name')
    .option('--fps <n>', 'analytics frames per second', Number)
    .option('--analytics <list>', 'comma list (replaces the current one; "" for none)')
    .option('--transport <tcp|udp>', 'RTSP transport')
    .option('--json', 'print JSON')
    .action(async (id: string, url: string | undefined, o: Record<string, unknown>) => {
      // The new URL is a positional as in `stream add`: `--url` is the daemon's address, read anywhere on the line.
      const body: Record<string, unknown> = url === undefined ? {} : { url };
      for (const key of ['name', 'fps', 'transport'] as const) if (o[key] !== undefined) body[key] = o[key];
      if (typeof o.analytics === 'string') body.analytics = o.analytics.split(',').map((s) => s.trim()).filter(Boolean);
      if (Object.keys(body).length === 0) {
        process.stderr.write('Nothing to change: give a new URL or at least one of --name, --fps, --analytics, --transport.\n');
        process.exitCode = 2;
        return;
      }
      const { stream: res } = await client().put<{ stream: StreamRow }>(`/api/streams/${encodeURIComponent(id)}`, body);
      output(Boolean(o.json), res, () => `Stream ${res.id} changed (fps ${res.fps ?? '?'}, analytics ${(res.analytics ?? []).join(',') || 'none'}); restarting.`);
    });

  stream
    .command('ls')
    .description('list streams with their health')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { streams: rows } = await client().get<{ streams: StreamRow[] }>('/api/streams');
      output(Boolean(o.json), rows, () =>
        rows.length === 0
          ? 'No streams. Add one with: vigil stream add ID URL'
          : table(
              ['ID', 'STATE', 'FPS', 'RECONNECTS', 'SINCE', 'ANALYTICS', 'URL', 'LAST ERROR'],
              rows.map((r) => [
                r.id,
                r.enabled ? (r.health?.state ?? 'unknown') : 'disabled',
                r.health?.fps !== undefined ? r.health.fps.toFixed(1) : '',
                r.health?.reconnects ?? 0,
                ago(r.health?.since),
                (r.analytics ?? []).join(','),
                r.url,
                r.health?.lastError ? `${r.health.lastError.code}: ${r.health.lastError.message}` : '',
              ]),
            ),
      );
    });

  stream
    .command('rm <id>')
    .alias('remove')
    .description('remove a stream')
    .action(async (id: string) => {
      await client().delete(`/api/streams/${encodeURIComponent(id)}`);
      process.stdout.write(`Removed stream ${id}.\n`);
    });

  for (const action of ['enable', 'disable'] as const) {
    stream
      .command(`${action} <id>`)
      .description(`${action} a stream`)
      .action(async (id: string) => {
        await client().post(`/api/streams/${encodeURIComponent(id)}/${action}`);
        process.stdout.write(`Stream ${id} ${action}d.\n`);
      });
  }

  stream
    .command('restart <id>')
    .description('retry a stream now, skipping its backoff wait')
    .action(async (id: string) => {
      await client().post(`/api/streams/${encodeURIComponent(id)}/restart`);
      process.stdout.write(`Stream ${id} restarting.\n`);
    });
}
