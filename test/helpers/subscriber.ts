import WebSocket from 'ws';

/** A real event-socket client that records every message it receives. */
export interface Subscriber {
  readonly messages: Record<string, unknown>[];
  events(): Record<string, unknown>[];
  controls(type?: string): Record<string, unknown>[];
  close(): void;
}

/** Connects to /event_channel with the given query; resolves once open. */
export function subscribe(baseUrl: string, query: Record<string, string>, path = '/event_channel'): Promise<Subscriber> {
  const u = new URL(path, baseUrl);
  u.protocol = 'ws:';
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  const ws = new WebSocket(u);
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve({
        messages,
        events: () => messages.filter((m) => 'analytic_id' in m),
        controls: (type) => messages.filter((m) => typeof m.type === 'string' && (!type || m.type === type)),
        close: () => ws.close(),
      }),
    );
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
}
