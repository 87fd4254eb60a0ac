import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StreamEntry, VigilConfig } from '../config/types.js';
import {
  analyzerRegistry,
  createDetectAnalyzer,
  createFaceDetectAnalyzer,
  createFaceRecognizeAnalyzer,
  createIdentifyAnalyzer,
  createPlateAnalyzer,
  DETECT_CLASSES,
  type FrameAnalyzer,
} from './analytics/frameAnalyzers.js';
import { createAnalyticsFactory, SharedAnalytics } from './analytics/registry.js';
import { EventSink } from './events/eventSink.js';
import { InferenceEngine } from './inference/engine.js';
import { planThreads, sessionsFor } from './inference/threadBudget.js';
import { expectedModelCount, streamsPerRole } from './analytics/modelCount.js';
import type { ModelRole } from './inference/types.js';
import type { Logger } from './log.js';
import { AnalyticsPipeline } from './pipeline.js';
import { registerAdminRoutes } from './server/adminRoutes.js';
import { registerCountRoutes } from './server/countRoutes.js';
import { registerFaceRoutes } from './server/faceRoutes.js';
import { registerHealthRoutes } from './server/healthRoutes.js';
import { registerDoctorRoutes } from './server/doctorRoutes.js';
import { uwsInfo, uwsSummary } from './server/uws/loadUws.js';
import { createMetrics, sqliteSizeBytes } from './server/metrics.js';
import { HomeAssistantBridge } from './sinks/homeAssistant.js';
import { registerSessionRoutes } from './server/sessionRoutes.js';
import { registerSnapshotRoutes } from './server/snapshotRoutes.js';
import { grabSnapshot } from './streams/snapshot.js';
import { registerWebUi } from './server/staticRoutes.js';
import { registerAnalyzeRoutes } from './server/frameSockets/analyzeRoutes.js';
import { registerFrameSockets, type FrameSockets } from './server/frameSockets/frameSockets.js';
import { registerFrameReplyMetrics } from './server/frameSockets/replyMetrics.js';
import { LiveFrameStore, type LiveDetection } from './server/liveImage/liveFrameStore.js';
import { registerLiveMetrics } from './server/liveImage/liveMetrics.js';
import { registerLiveImage, type LiveImage } from './server/liveImage/liveSocket.js';
import { createServer, type VigilServer } from './server/server.js';
import { openDatabase, type Db } from './store/database.js';
import { CounterStore } from './store/counterStore.js';
import { EventStore } from './store/eventStore.js';
import { ENROLLED_EVENT_SQL, FaceGallery } from './store/faceGallery.js';
import { OutboxStore } from './store/outboxStore.js';
import { Retention } from './store/retention.js';
import { resolveCap, StorageMeter } from './store/storageBudget.js';
import { MqttOutbox } from './sinks/mqttOutbox.js';
import { StreamStore } from './store/streamStore.js';
import { StreamRegistry } from './streamRegistry.js';
import { VERSION } from './version.js';
import { VigilError } from './errors.js';
import { exampleTokens } from './exampleTokens.js';
import { wasmLetterboxAvailable } from './vision/letterboxWasm.js';

export interface DaemonOptions {
  configFile?: string;
}

/** The assembled daemon: every part built from config, started in order, stopped in reverse. */
export interface Daemon {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Applies a re-read config: streams and log level live; the rest is logged as needing a restart. */
  reload(next: VigilConfig): Promise<void>;
  healthy(): boolean;
  streamCount(): number;
  /** `http://host:port` the server listens on (after start). */
  address(): string;
  readonly parts: DaemonParts;
}

export interface DaemonParts {
  config: VigilConfig;
  db: Db;
  events: EventStore;
  engine: InferenceEngine;
  server: VigilServer;
  pipeline: AnalyticsPipeline;
  streams: StreamRegistry;
}

/** Builds every part from config (DESIGN.md section 3.1); nothing runs until start(). */
export async function createDaemon(config: VigilConfig, log: Logger, _opts: DaemonOptions = {}): Promise<Daemon> {
  const startedAt = Date.now();
  const dbFile = join(config.data_dir, 'vigil.db');
  const db = openDatabase(dbFile);
  const events = new EventStore(db);
  const streamStore = new StreamStore<StreamEntry>(db);
  const adminToken = config.server.admin_token ?? loadOrCreateAdminToken(config.data_dir, log);
  const examples = exampleTokens([adminToken, ...config.server.tokens]);
  if (examples.length) log.warn({ code: 'VIGIL_ERR_EXAMPLE_TOKEN' }, `server tokens include the documentation's example (${examples.join(', ')}): anyone who read the docs can use this daemon; set your own`);
  // Camera credentials go to ffmpeg through files here (0700), never on its command line.
  const secretsDir = join(config.data_dir, 'run');
  rmSync(secretsDir, { recursive: true, force: true }); // left by a crash: they would only leak
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });

  // Streams from the config file and those added through the API (kept in the store); once the
  // registry runs, as it holds them now (reloads, runtime switches).
  let registry: StreamRegistry | undefined;
  const allStreams = () => registry?.entries().map((e) => e.entry) ?? [...config.streams, ...streamStore.list().map((s) => s.config)];
  const planFor = () => planThreads({
    budget: config.inference.threads,
    models: expectedModelCount(allStreams()),
    perSession: config.models.intra_op_threads,
    spinning: config.inference.spinning,
  });
  let threads = planFor();
  const letterbox = wasmLetterboxAvailable() ? 'wasm-simd' : 'javascript';
  const logBudget = (why: string) => log.info({ component: 'inference', ...threads, letterbox }, `${why}ORT thread budget: ${threads.budget} of ${threads.cores} cores, ${threads.intraOp} intra-op per model for ${threads.models} model(s), spinning ${threads.spinning ? 'on' : 'off'}; letterbox ${letterbox}`);
  logBudget('');
  const engine = new InferenceEngine({
    log,
    dataDir: config.data_dir,
    mirrorDir: config.models.mirror ?? undefined,
    providers: config.models.providers,
    threads: { intraOp: threads.intraOp, interOp: Math.max(1, config.models.inter_op_threads), spinning: threads.spinning },
    // Asked when a model loads (lazily): streams added through the API by then count too.
    sessions: (model) => sessionsFor(threads, streamsUsing(model), config.inference.sessions_per_model, config.models.intra_op_threads > 0),
    rectInputs: config.inference.rect_inputs,
    roles: config.models.roles as Partial<Record<ModelRole, string>>,
    batch: { maxBatch: config.models.max_batch, maxWaitMs: config.models.max_wait_ms },
    queueDepth: config.models.queue_depth,
    ortModulePath: config.models.ort_module ?? undefined,
    manifestPaths: config.models.manifest ? [config.models.manifest] : undefined,
    // Models load after start, when `metrics` (built below) exists.
    onLatency: (model, stage, ms) => metrics.observeModelLatency(model, stage, ms),
  });
  // Streams added, removed or switched change how many models share the threads and how many
  // sessions each gets; the loaded models follow (a burst of changes is applied once).
  let replanTimer: NodeJS.Timeout | undefined;
  function replanSoon(): void {
    clearTimeout(replanTimer);
    replanTimer = setTimeout(() => {
      replanTimer = undefined;
      const next = planFor();
      if (next.intraOp !== threads.intraOp || next.models !== threads.models || next.spinning !== threads.spinning) {
        threads = next;
        logBudget('streams changed: ');
      }
      void engine.replan();
    }, 1000);
    replanTimer.unref();
  }

  /** Enabled streams whose analytics use this model (under any role it serves). */
  function streamsUsing(model: string): number {
    let n = 0;
    for (const [role, count] of streamsPerRole(allStreams())) {
      try {
        if (engine.catalog.nameForRole(role, config.models.roles as Partial<Record<ModelRole, string>>) === model) n = Math.max(n, count);
      } catch { /* a role without a model here: nothing uses it */ }
    }
    return n;
  }

  const server = createServer({
    host: config.server.host,
    port: config.server.port,
    tokens: config.server.tokens,
    adminToken,
    heartbeatS: config.server.heartbeat_s,
    log,
    store: events,
    maxSubscribers: config.server.events.max_subscribers,
    maxSubscribersPerToken: config.server.events.max_subscribers_per_token,
    highWaterBytes: config.server.events.send_budget_bytes,
    highWaterMessages: config.server.events.send_budget_messages,
    maxLagEvents: config.server.events.max_lag_events,
    maxStallMs: config.server.events.stuck_close_s * 1000,
    pingIntervalS: config.server.events.ping_interval_s,
    idleTimeoutS: config.server.events.idle_timeout_s,
    onSubscriberClosed: (why) => metrics.countSubscriberClose(why),
    onGap: () => metrics.countSubscriberGap(),
  });

  const counters = new CounterStore(db);
  const gallery = new FaceGallery(db);
  const faceVariation = (eventId: string): string | undefined => {
    const v = events.get(eventId, false)?.pipeline_data.variation;
    return typeof v === 'string' ? v : undefined;
  };
  const analyticsDeps = {
    config, engine, counters, gallery, faceVariation, log,
    // What the counting analytics see on each frame, drawn by the live view (liveFrames is built below, before any frame).
    onDetections: (id: string, ts: number, source: string, items: LiveDetection[]) => liveFrames.putDetections(id, ts, items, source),
  };
  const shared = new SharedAnalytics(analyticsDeps);
  const createAnalytics = createAnalyticsFactory(shared, analyticsDeps);
  // The store is bounded by default: `auto` is a share of the data disk (store/storageBudget.ts).
  const cap = resolveCap(config.retention, config.data_dir, sqliteSizeBytes(db));
  if (cap.source === 'auto') log.info({ maxBytes: cap.maxBytes, diskBytes: cap.diskBytes }, 'event store capped at a share of the data disk (retention.max_bytes: auto)');
  const storage = new StorageMeter(db, cap.maxBytes);
  const retention = new Retention(db, {
    maxAgeDays: config.retention.max_age_days ?? undefined,
    maxBytes: cap.maxBytes,
    cropsMaxAgeDays: config.retention.crops_max_age_days ?? undefined,
    // Face captures follow their events: a capture older than every kept event has nothing left to confirm.
    pruneCompanions: (oldest) => gallery.pruneCaptures(oldest),
    // Face capture images live no longer than event crops.
    pruneCompanionCrops: (before, limit) => gallery.thinCapturesBefore(before, limit),
    perAnalytic: Object.fromEntries(
      Object.entries(config.retention.per_analytic).map(([k, r]) => [k, { maxAgeDays: r.max_age_days, maxBytes: r.max_bytes }]),
    ),
    batch: config.retention.batch,
    intervalS: config.retention.interval_s,
    walLimitBytes: config.retention.wal_limit_bytes,
    hardCap: config.retention.hard_cap,
    protectedSql: ENROLLED_EVENT_SQL,
  }, log);
  const m = config.mqtt;
  const mqtt = m
    ? new MqttOutbox({ store: events, cursor: new OutboxStore(db), log }, {
        url: m.url,
        username: m.username,
        password: m.password,
        clientId: m.client_id,
        topicPrefix: m.topic_prefix,
        qos: m.qos,
        crops: m.crops,
        outboxMax: m.outbox_max,
        nodeNum: config.node_num,
      })
    : undefined;
  // Per-camera retained state and Home Assistant discovery ride on the outbox's connection.
  const homeAssistant = mqtt && m
    ? new HomeAssistantBridge(mqtt, {
        discovery: m.homeassistant,
        discoveryPrefix: m.discovery_prefix,
        snapshotIntervalMs: m.snapshot_interval_s * 1000,
        nodeNum: config.node_num,
        version: VERSION,
        describe: (id) => streams.list().find((s) => s.id === id),
        log,
      })
    : undefined;
  // Read at each scrape; the parts named here are all built below, before any scrape can come.
  const metrics = createMetrics({
    streams: () => streams.health(),
    pipeline: () => pipeline.stats(),
    models: () => engine.metrics(),
    subscribers: () => server.subscriberCount(),
    eventSocket: () => server.subscriberStats(),
    ...(mqtt ? { mqtt: () => mqtt.stats() } : {}),
    storeSizeBytes: () => sqliteSizeBytes(db, dbFile),
    storage: () => ({ max_bytes: cap.maxBytes ?? null, ...storage.rate(sqliteSizeBytes(db)) }),
    lastSeq: () => events.lastSeq(),
    info: () => ({ version: VERSION, node_num: config.node_num }),
  });
  // Store before publish (DESIGN.md section 1); on a full disk, publish live without a seq.
  const sink = new EventSink({
    store: events,
    publish: (e, seq) => {
      server.publish(e, seq);
      metrics.countEvent(e.analytic_id);
      homeAssistant?.onEvent({ ...e, seq });
    },
    publishLive: (e) => {
      server.publishLive(e);
      metrics.countEvent(e.analytic_id);
      homeAssistant?.onEvent(e);
    },
    publishControl: (msg) => server.publishControl(msg),
    log,
    nodeNum: config.node_num,
    jpegQuality: config.crops.jpeg_quality,
    cropMaxSide: config.crops.max_side,
    outbox: mqtt,
    onStorageFull: () => retention.trimNow(),
  });
  const gate = config.inference.motion_gate;
  const pipeline = new AnalyticsPipeline({
    log,
    createAnalytics,
    prepareEmit: (obs, stream) => sink.prepare(obs, stream.url),
    eventBacklog: config.inference.event_backlog,
    motionGate: { enabled: gate.enabled, threshold: gate.threshold, maxSkipMs: gate.max_skip_s * 1000 },
  });

  // The live view (/ws/live) keeps the latest frame of each stream, taken on its way into the analytics.
  const liveFrames = new LiveFrameStore({
    geometry: (id) => {
      try {
        const g = streams.geometry(id);
        return { lines: g.lines.map((l) => ({ name: l.name, points: l.points })), zones: g.zones.map((z) => ({ name: z.name, polygon: z.polygon })) };
      } catch {
        return undefined; // a stream removed meanwhile
      }
    },
    holdMs: config.server.frames.live.detection_hold_s * 1000,
  });
  const intoPipeline = pipeline.onFrame.bind(pipeline);
  pipeline.onFrame = (frame) => {
    liveFrames.putFrame(frame);
    intoPipeline(frame);
  };

  const streams = new StreamRegistry({
    log,
    store: streamStore,
    pipeline,
    secretsDir,
    sourcePolicy: { schemes: config.sources.api_schemes, fileDirs: config.sources.file_dirs },
    onChange: () => replanSoon(),
    onHealth: (health) => {
      server.publishControl({ type: 'status', stream_id: health.id, ...health });
      homeAssistant?.onHealth(health);
    },
  });
  streams.loadConfig(config.streams);
  registry = streams;

  registerAdminRoutes(server.routes, {
    streams,
    events,
    status: {
      status: () => ({
        node_num: config.node_num,
        version: VERSION,
        uptime_s: (Date.now() - startedAt) / 1000,
        streams: streams.health(),
        pipeline: pipeline.stats(),
        models: engine.metrics(),
        subscribers: server.subscriberCount(),
        store: { last_seq: events.lastSeq(), size_bytes: sqliteSizeBytes(db, dbFile), max_bytes: cap.maxBytes ?? null, ...storage.rate(sqliteSizeBytes(db)) },
        storage: sink.stats(),
        mqtt: mqtt?.stats() ?? null,
        sockets: { uws: uwsInfo.kind, detail: uwsSummary() },
      }),
    },
  });

  metrics.register(server.routes);
  registerSessionRoutes(server.routes, [adminToken]);
  registerSnapshotRoutes(server.routes, {
    grab: (id) => {
      const e = streams.source(id);
      return grabSnapshot(e.url, { transport: e.transport });
    },
  });
  registerHealthRoutes(server.routes, {
    streams: () => streams.health(),
    pipelineHealthy: () => pipeline.healthy(),
    // Readable, and taking writes (a full disk shows here while events still flow live).
    checkStore: () => {
      db.prepare('SELECT 1').get();
      const st = sink.stats();
      return st.storage === 'ok' ? true : `store unavailable: ${String(st.error ?? 'writes failing')}`;
    },
  });
  registerWebUi(server.routes);
  registerDoctorRoutes(server.routes, () => ({
    dataDir: config.data_dir,
    providers: config.models.providers,
    ortModule: config.models.ort_module,
    hwaccels: config.streams.map((s) => s.hwaccel).filter((h) => h && h !== 'none'),
  }));

  registerCountRoutes(server.routes, {
    counters,
    geometry: { get: (id) => streams.geometry(id), set: (id, g) => streams.setGeometry(id, g) },
  });

  // Frame sockets and their REST twin: the same detectors, one frame at a time, loaded on first use.
  const analyzers = analyzerRegistry([
    lazyAnalyzer('detect', async () => createDetectAnalyzer(await shared.objectDetector(), { classes: [...DETECT_CLASSES] })),
    lazyAnalyzer('plate', async () => createPlateAnalyzer(await shared.plateReader())),
    lazyAnalyzer('face-detect', async () => createFaceDetectAnalyzer(await shared.faceDetector())),
    lazyAnalyzer('face-recognize', async () => createFaceRecognizeAnalyzer((await shared.faces()).recognizer)),
    lazyAnalyzer('identify', async () => createIdentifyAnalyzer((await shared.faces()).recognizer)),
  ]);
  registerFaceRoutes(server.routes, { faces: () => shared.faces() });
  const frameLimits = {
    maxFrameBytes: config.server.frames.max_frame_bytes,
    maxFps: config.server.frames.max_fps,
    maxConnectionsPerToken: config.server.frames.max_connections_per_token,
    maxBatchSize: config.server.frames.max_batch_size,
    heartbeatS: config.server.frames.heartbeat_s,
    idleTimeoutS: config.server.frames.idle_timeout_s,
    maxConcurrent: config.server.frames.max_concurrent,
    identifyMaxFrameBytes: config.server.frames.identify_max_frame_bytes,
    mobiledgexMaxFrameBytes: config.server.frames.mobiledgex_max_frame_bytes,
    queueFrames: config.server.frames.queue_frames,
  };
  const frameSockets: FrameSockets = registerFrameSockets(server.app, { analyzers, tokens: [...config.server.tokens, adminToken], limits: frameLimits, log });
  registerAnalyzeRoutes(server.routes, analyzers, frameLimits, { gate: frameSockets.gate, log });
  registerFrameReplyMetrics(metrics.registry, () => frameSockets.replies());
  const live = config.server.frames.live;
  const liveImage: LiveImage = registerLiveImage(server.app, server.routes, {
    source: liveFrames,
    tokens: [...config.server.tokens, adminToken],
    log,
    options: { maxFps: live.max_fps, maxWidth: live.max_width, jpegQuality: live.jpeg_quality, maxViewers: live.max_viewers },
  });
  registerLiveMetrics(metrics.registry, () => liveImage.stats());

  let current = config;
  const parts: DaemonParts = { config, db, events, engine, server, pipeline, streams };
  return {
    parts,
    async start() {
      await server.start();
      log.info({ address: `http://${config.server.host}:${server.port()}`, version: VERSION }, 'listening');
      retention.start();
      mqtt?.start();
      await streams.start();
    },
    async stop() {
      // Reverse order, each step on its own so one failure does not skip the rest.
      const steps: [string, () => Promise<void> | void][] = [
        ['streams', () => streams.stop()],
        ['pipeline', () => pipeline.stop()],
        ['homeassistant', () => homeAssistant?.stop()],
        ['mqtt', () => mqtt?.stop()],
        ['retention', () => retention.stop()],
        ['frame sockets', () => frameSockets.close()],
        ['live image', () => liveImage.close()],
        ['server', () => server.stop()],
        ['metrics', () => metrics.stop()],
        ['inference', () => { clearTimeout(replanTimer); return engine.stop(); }],
        ['store', () => {
          events.flush();
          db.close();
        }],
      ];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (err) {
          log.error({ err, part: name }, 'stop failed');
        }
      }
    },
    async reload(next) {
      const changes = streams.diffConfig(next.streams);
      // An empty or truncated file looks like "no streams": that must be said on purpose.
      if (next.streams.length === 0 && current.streams.length > 0 && !next.allow_no_streams) {
        throw new VigilError(
          'VIGIL_ERR_RELOAD_REFUSED',
          `The new config has no streams and would stop all ${current.streams.length} (${current.streams.map((e) => e.id).join(', ')}); if that is meant, write "streams: []" and "allow_no_streams: true".`,
        );
      }
      const restartNeeded = (['server', 'models', 'data_dir', 'node_num', 'analytics', 'retention', 'mqtt', 'sources'] as const).filter(
        (k) => JSON.stringify(next[k]) !== JSON.stringify(current[k]),
      );
      if (restartNeeded.length) log.warn({ keys: restartNeeded }, 'SIGHUP: these settings change only after a restart');
      if (next.log_level !== current.log_level) {
        log.level = next.log_level;
        log.info({ log_level: next.log_level }, 'log level changed');
      }
      await streams.applyConfig(next.streams);
      current = { ...current, log_level: next.log_level, streams: next.streams, allow_no_streams: next.allow_no_streams };
      const said = (label: string, ids: string[]) => (ids.length ? `${label} ${ids.join(', ')}` : '');
      const summary = [said('added', changes.added), said('changed', changes.changed), said('removed', changes.removed)].filter(Boolean).join('; ') || 'no stream changed';
      log.info({ ...changes, restartNeeded, streams: next.streams.length }, `SIGHUP: config re-read and applied: ${summary}`);
    },
    healthy: () => pipeline.healthy(),
    streamCount: () => streams.health().length,
    address: () => `http://${config.server.host}:${server.port()}`,
  };
}

/** An analyzer whose models load on its first frame, so unused sockets cost nothing at start. */
function lazyAnalyzer(name: string, make: () => Promise<FrameAnalyzer>): FrameAnalyzer {
  let inner: Promise<FrameAnalyzer> | undefined;
  return {
    name,
    analyze(img) {
      inner ??= make().catch((err: unknown) => {
        inner = undefined;
        throw err;
      });
      return inner.then((a) => a.analyze(img));
    },
  };
}

/** Without a configured admin token, one is generated once and kept (0600) in the data dir. */
function loadOrCreateAdminToken(dataDir: string, log: Logger): string {
  const file = join(dataDir, 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  log.warn({ file }, 'no server.admin_token configured: generated one and saved it in the data dir');
  return token;
}
