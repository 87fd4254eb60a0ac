// A test-only daemon stand-in: the real EventStore, server, EventSink and Retention assembled the
// way main does, fed with synthetic events at a fixed rate (no cameras, no models), so crash
// tests can SIGKILL it mid-flow. Usage: node --import tsx test/helpers/producer.ts DB_FILE [EVENTS_PER_S]
// Prints one JSON line {"port":N} once listening. PRODUCER_SERVER (JSON) overrides server options
// (send budget, pings, caps); PRODUCER_LOG=1 writes the daemon's JSON log lines to stderr;
// PRODUCER_CROP_BYTES sets the crop size (default 1024).
import { openDatabase } from '../../daemon/store/database.js';
import { EventStore } from '../../daemon/store/eventStore.js';
import { Retention } from '../../daemon/store/retention.js';
import { createServer } from '../../daemon/server/server.js';
import { EventSink } from '../../daemon/events/eventSink.js';
import { createRootLogger, silentLogger } from '../../daemon/log.js';
import { fakeEvent } from './eventFixtures.js';

const PRODUCER_TOKEN = 'producer-token-123';

const [file, rateText] = process.argv.slice(2);
if (!file) {
  console.error('usage: producer.ts DB_FILE [EVENTS_PER_S]');
  process.exit(2);
}
const rate = Number(rateText ?? 1000);
const log = process.env.PRODUCER_LOG === '1' ? createRootLogger('info', { write: (line: string) => process.stderr.write(line) }) : silentLogger();
const serverOptions = JSON.parse(process.env.PRODUCER_SERVER ?? '{}') as Record<string, unknown>;
const db = openDatabase(file);
const store = new EventStore(db);
const retention = new Retention(db, { intervalS: 1 }, log);
const server = createServer({ host: '127.0.0.1', port: 0, tokens: [PRODUCER_TOKEN], adminToken: 'producer-admin-123', heartbeatS: 0, log, store, ...serverOptions });
const sink = new EventSink({ store, publish: (e, s) => server.publish(e, s), publishControl: (m) => server.publishControl(m), log, nodeNum: 1 });
await server.start();
retention.start();
process.stdout.write(`${JSON.stringify({ port: server.port(), lastSeq: store.lastSeq() })}\n`);

// Ticks of 10 ms; each produces its share of the rate, not awaited: like several cameras at once.
const crop = Buffer.alloc(Number(process.env.PRODUCER_CROP_BYTES ?? 1024), 3);
let n = 0;
const started = Date.now();
setInterval(() => {
  const due = Math.floor(((Date.now() - started) / 1000) * rate) - n;
  for (let i = 0; i < due; i++, n++) void sink.deliver(fakeEvent(n % 3 ? 'NFV4-PC' : 'NFV4-LPR', `cam${n % 4}`, { n, crop, plate: `B${n}X` }).event, crop);
}, 10);
