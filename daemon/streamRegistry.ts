import { checkStream } from '../config/loader.js';
import type { StreamEntry } from '../config/types.js';
import { VigilError } from './errors.js';
import { maskUrl } from './events/mask.js';
import type { Logger } from './log.js';
import type { CountingGeometry } from './analytics/geometry/geometryConfig.js';
import type { AnalyticsPipeline } from './pipeline.js';
import type { StreamControl } from './server/adminRoutes.js';
import type { StreamStore } from './store/streamStore.js';
import { StreamManager } from './streams/streamManager.js';
import { checkSourcePolicy, DEFAULT_API_SCHEMES, type SourcePolicy } from './streams/sourcePolicy.js';
import { withStreamDefaults, type StreamConfig, type StreamHealth } from './streams/types.js';

export interface StreamRegistryDeps {
  log: Logger;
  store: StreamStore<StreamEntry>;
  pipeline: AnalyticsPipeline;
  onHealth(health: StreamHealth): void;
  /** What API streams may read (config `sources`); default: network schemes only, no files. */
  sourcePolicy?: SourcePolicy;
  /** Where private ffconcat files with camera credentials are written. */
  secretsDir?: string;
  /** Called after streams were added, changed, removed, enabled or disabled (the model sessions follow them). */
  onChange?: () => void;
}

/** What a reload changed, stream by stream. */
export interface StreamChanges {
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: number;
}

/** A stream as the API lists it: its config (URL masked), where it comes from, and its health. */
export interface StreamView {
  id: string;
  name?: string;
  url: string;
  enabled: boolean;
  origin: 'config' | 'api';
  fps: number;
  analytics: string[];
  health: StreamHealth | undefined;
  /** The health recorded before the daemon last stopped, until the stream reports anew. */
  lastKnown?: Record<string, unknown>;
}

/**
 * The streams the daemon runs: those of the config file plus those added through the
 * API (kept in the store). Wires each to the ffmpeg supervisor and the analytics pipeline,
 * and applies changes live.
 */
export class StreamRegistry implements StreamControl {
  private readonly manager: StreamManager;
  private readonly fromConfig = new Map<string, StreamEntry>();
  private readonly log: Logger;

  constructor(private readonly deps: StreamRegistryDeps) {
    this.log = deps.log.child({ component: 'streams' });
    this.manager = new StreamManager({
      log: deps.log,
      secretsDir: deps.secretsDir,
      onFrame: (frame) => deps.pipeline.onFrame(frame),
      onHealth: (h) => {
        try {
          deps.store.saveHealth(h.id, h);
        } catch (err) {
          this.log.warn({ err, stream: h.id }, 'stream health could not be stored');
        }
        deps.onHealth(h);
      },
    });
  }

  /** Takes the config file's streams (before start). */
  loadConfig(entries: StreamEntry[]): void {
    this.fromConfig.clear();
    for (const e of entries) this.fromConfig.set(e.id, e);
  }

  private changed(): void {
    try {
      this.deps.onChange?.();
    } catch (err) {
      this.log.warn({ err }, 'stream change hook failed');
    }
  }

  async start(): Promise<void> {
    const stored = this.deps.store.list();
    for (const s of stored) {
      if (this.fromConfig.has(s.id)) {
        this.log.warn({ stream: s.id }, 'a stream added through the API has the id of a config stream; the config file wins');
        continue;
      }
      try {
        checkSourcePolicy(s.config.url, this.policy());
      } catch (err) {
        // Added before the policy was tightened: kept in the store, not run.
        this.log.error({ stream: s.id, code: (err as VigilError).code }, (err as Error).message);
        continue;
      }
      await this.run(s.config);
    }
    for (const e of this.fromConfig.values()) await this.run(e);
    this.manager.start();
  }

  async stop(): Promise<void> {
    await this.manager.stop();
  }

  /** What applyConfig would do with these entries, without doing it. */
  diffConfig(entries: StreamEntry[]): StreamChanges {
    const next = new Map(entries.map((e) => [e.id, e]));
    const out: StreamChanges = { added: [], changed: [], removed: [], unchanged: 0 };
    for (const id of this.fromConfig.keys()) if (!next.has(id)) out.removed.push(id);
    for (const [id, e] of next) {
      const old = this.fromConfig.get(id);
      if (!old) out.added.push(id);
      else if (JSON.stringify(old) !== JSON.stringify(e)) out.changed.push(id);
      else out.unchanged++;
    }
    return out;
  }

  /** SIGHUP: starts new config streams, restarts changed ones, stops removed ones; returns what changed. */
  async applyConfig(entries: StreamEntry[]): Promise<StreamChanges> {
    const changes = this.diffConfig(entries);
    const next = new Map(entries.map((e) => [e.id, e]));
    for (const id of changes.removed) {
      await this.manager.remove(id);
      this.deps.pipeline.removeStream(id);
      this.fromConfig.delete(id);
      this.log.info({ stream: id }, 'stream removed from the config file: stopped');
    }
    for (const id of [...changes.added, ...changes.changed]) {
      const e = next.get(id)!;
      const old = this.fromConfig.get(id);
      this.fromConfig.set(id, e);
      if (old) await this.manager.remove(id);
      await this.run(e);
      this.log.info({ stream: id, url: maskUrl(e.url) }, old ? 'stream changed in the config file: restarted' : 'stream added to the config file: started');
    }
    if (changes.added.length + changes.changed.length + changes.removed.length > 0) this.changed();
    return changes;
  }

  /** Retries a stream now, skipping any backoff wait (`vigil stream restart ID`). */
  async restart(id: string): Promise<StreamView> {
    this.entry(id); // VIGIL_ERR_STREAM_UNKNOWN
    await this.manager.restart(id);
    this.log.info({ stream: id }, 'stream restart requested');
    return this.view(id);
  }

  health(): StreamHealth[] {
    return this.manager.list();
  }

  list(): StreamView[] {
    const health = new Map(this.manager.list().map((h) => [h.id, h]));
    const stored = this.deps.store.lastHealth();
    return this.entries().map(({ entry, origin }) => ({
      id: entry.id,
      name: entry.name,
      url: maskUrl(entry.url),
      enabled: entry.enabled,
      origin,
      fps: entry.fps,
      analytics: entry.analytics,
      health: health.get(entry.id),
      lastKnown: stored.get(entry.id),
    }));
  }

  async add(raw: unknown): Promise<StreamView> {
    const entry = checkStream(raw);
    checkSourcePolicy(entry.url, this.policy());
    StreamManager.normalize(toStreamConfig(entry)); // throws VIGIL_ERR_STREAM_URL on a URL ffmpeg cannot take
    if (this.fromConfig.has(entry.id) || this.deps.store.get(entry.id)) {
      throw new VigilError('VIGIL_ERR_STREAM_EXISTS', `A stream with id "${entry.id}" already exists; remove it first or pick another id.`);
    }
    await this.run(entry);
    this.deps.store.upsert(entry);
    this.log.info({ stream: entry.id, url: entry.url }, 'stream added');
    this.changed();
    return this.view(entry.id);
  }

  /**
   * Changes an API stream's settings live: the given keys replace the stored ones (null drops one),
   * the result is checked as a new stream would be, then the stream restarts with it.
   */
  async update(id: string, patch: Record<string, unknown>): Promise<StreamView> {
    if (patch.id !== undefined && patch.id !== id) {
      throw new VigilError('VIGIL_ERR_BAD_REQUEST', `A stream's id cannot change ("${id}"): add a stream with the new id and remove this one.`);
    }
    if (this.fromConfig.has(id)) {
      throw new VigilError('VIGIL_ERR_STREAM_CONFIG_OWNED', `Stream "${id}" is defined in the config file: change it there and reload (systemctl reload vigil).`);
    }
    const old = this.deps.store.get(id)?.config;
    if (!old) throw new VigilError('VIGIL_ERR_STREAM_UNKNOWN', `No stream with id "${id}".`);
    const changes = { ...patch };
    // The URL as the API shows it (credentials masked) means "keep the stored one".
    if (typeof changes.url === 'string' && changes.url.trim() === maskUrl(old.url)) delete changes.url;
    const merged: Record<string, unknown> = { ...old, ...changes, id };
    for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
    const entry = checkStream(merged);
    checkSourcePolicy(entry.url, this.policy());
    StreamManager.normalize(toStreamConfig(entry));
    await this.manager.remove(id);
    await this.run(entry);
    this.deps.store.upsert(entry);
    this.log.info({ stream: id, url: maskUrl(entry.url), keys: Object.keys(changes) }, 'stream changed: restarted');
    this.changed();
    return this.view(id);
  }

  async remove(id: string): Promise<void> {
    if (this.fromConfig.has(id)) {
      throw new VigilError('VIGIL_ERR_STREAM_CONFIG_OWNED', `Stream "${id}" is defined in the config file: remove it there and reload (systemctl reload vigil), or disable it.`);
    }
    if (!this.deps.store.remove(id)) throw new VigilError('VIGIL_ERR_STREAM_UNKNOWN', `No stream with id "${id}".`);
    await this.manager.remove(id);
    this.deps.pipeline.removeStream(id);
    this.log.info({ stream: id }, 'stream removed');
    this.changed();
  }

  async setEnabled(id: string, on: boolean): Promise<StreamView> {
    const cfg = this.fromConfig.get(id);
    if (cfg) {
      // Config streams: a runtime switch until the next restart or reload of the file.
      this.fromConfig.set(id, { ...cfg, enabled: on });
    } else {
      this.deps.store.setEnabled(id, on);
    }
    this.manager.setEnabled(id, on);
    this.log.info({ stream: id }, on ? 'stream enabled' : 'stream disabled');
    this.changed();
    return this.view(id);
  }

  /** A stream's entry as configured, credentials included (for the snapshot grabber; never sent out). */
  source(id: string): StreamEntry {
    return this.entry(id);
  }

  /** The lines and zones of a stream (counting geometry). */
  geometry(id: string): CountingGeometry {
    const e = this.entry(id);
    return { lines: e.lines, zones: e.zones } as CountingGeometry;
  }

  /** Replaces a stream's lines and zones and rebuilds its analytics live; API streams keep them in the store. */
  async setGeometry(id: string, g: CountingGeometry): Promise<void> {
    if (this.fromConfig.has(id)) {
      throw new VigilError('VIGIL_ERR_BAD_REQUEST', `Stream "${id}" is defined in the config file: edit its lines and zones there and reload.`);
    }
    const next = { ...this.entry(id), lines: g.lines, zones: g.zones } as StreamEntry;
    await this.deps.pipeline.setStream(next);
    this.deps.store.upsert(next);
    this.log.info({ stream: id, lines: g.lines.length, zones: g.zones.length }, 'counting geometry changed');
  }

  private policy(): SourcePolicy {
    return this.deps.sourcePolicy ?? { schemes: DEFAULT_API_SCHEMES, fileDirs: [] };
  }

  private entry(id: string): StreamEntry {
    const e = this.fromConfig.get(id) ?? this.deps.store.get(id)?.config;
    if (!e) throw new VigilError('VIGIL_ERR_STREAM_UNKNOWN', `No stream with id "${id}".`);
    return e;
  }

  private view(id: string): StreamView {
    const v = this.list().find((s) => s.id === id);
    if (!v) throw new VigilError('VIGIL_ERR_STREAM_UNKNOWN', `No stream with id "${id}".`);
    return v;
  }

  /** Every stream as it stands now (config file, then API), with its enabled switch (the store merges its column in). */
  entries(): { entry: StreamEntry; origin: 'config' | 'api' }[] {
    const api = this.deps.store
      .list()
      .filter((s) => !this.fromConfig.has(s.id))
      .map((s) => ({ entry: s.config, origin: 'api' as const }));
    return [...[...this.fromConfig.values()].map((entry) => ({ entry, origin: 'config' as const })), ...api];
  }

  private async run(entry: StreamEntry): Promise<void> {
    await this.deps.pipeline.setStream(entry);
    this.manager.add(toStreamConfig(entry));
  }
}

/** The supervisor's view of a stream: how to pull frames, nothing about analytics. */
export function toStreamConfig(e: StreamEntry): StreamConfig {
  return withStreamDefaults({
    id: e.id,
    url: e.url,
    transport: e.transport,
    fps: e.fps,
    enabled: e.enabled,
    loop: e.loop,
    realtime: e.realtime,
    keyframesOnly: e.keyframes_only,
    hwaccel: e.hwaccel,
    maxWidth: e.max_width,
    stallTimeoutS: e.stall_timeout_s,
    startTimeoutS: e.start_timeout_s,
    backoff: { initialMs: e.backoff_initial_ms, maxMs: e.backoff_max_ms },
  });
}
