import type { VisionEvent } from '../events/schema.js';
import type { Logger } from '../log.js';
import type { StreamHealth } from '../streams/types.js';

/** Where retained states go: the MQTT outbox (it republishes them after each reconnect). */
export interface RetainedPublisher {
  /** `<topic_prefix>/<node_num>`. */
  readonly base: string;
  /** Retained `online` / `offline` (last will). */
  readonly availabilityTopic: string;
  publishRetained(topic: string, payload: string | Buffer): void;
}

export interface HomeAssistantOptions {
  /** Publish Home Assistant discovery configs (default true). */
  discovery?: boolean;
  /** Discovery prefix (Home Assistant's default: `homeassistant`). */
  discoveryPrefix?: string;
  /** At most one snapshot per camera this often, in ms (default 2000; 0 = no snapshots). */
  snapshotIntervalMs?: number;
  nodeNum: number;
  version: string;
  /** Name and analytics of a stream, when known (names the device, announces last plate/person early). */
  describe?(streamId: string): { name?: string; analytics?: string[] } | undefined;
  /** Where a failure of this listener is reported: it never reaches the event path. */
  log?: Logger;
}

type Entity = { component: 'sensor' | 'binary_sensor' | 'image'; key: string; config: Record<string, unknown> };

const KIND: Record<string, string> = { 'NFV4-PC': 'people', 'NFV4-VC': 'vehicles', 'NFV4-CE': 'crowd' };

/** Lowercase letters, digits and `_`: safe in topics, discovery ids and Jinja templates. */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'x';
}

/**
 * Per-camera retained state and Home Assistant MQTT discovery, kept from the events and
 * health changes the daemon publishes anyway. Topics under `<prefix>/<node>/cameras/<stream>/`:
 * `health` (JSON), `counts` (JSON, flat keys), `last_plate`, `last_person` (JSON of the last
 * such event) and `snapshot` (the last event's crop as JPEG bytes, rate-limited).
 * Discovery configs are retained under `<discovery_prefix>/<component>/vigil_<node>/<object>/config`
 * and name the daemon's availability topic, so entities turn unavailable when it stops.
 */
export class HomeAssistantBridge {
  private readonly announced = new Set<string>();
  private readonly counts = new Map<string, Record<string, number>>();
  private readonly snapshots = new Map<string, { last: number; pending: Buffer | null; timer: NodeJS.Timeout | null }>();
  private readonly discovery: boolean;
  private readonly prefix: string;
  private readonly snapshotMs: number;

  constructor(private readonly out: RetainedPublisher, private readonly opts: HomeAssistantOptions) {
    this.discovery = opts.discovery ?? true;
    this.prefix = (opts.discoveryPrefix ?? 'homeassistant').replace(/\/+$/, '');
    this.snapshotMs = opts.snapshotIntervalMs ?? 2000;
  }

  /** The state topic of a camera (`kind`: health, counts, last_plate, last_person, snapshot). */
  topic(streamId: string, kind: string): string {
    return `${this.out.base}/cameras/${streamId.replace(/[/+#\u0000]/g, '_')}/${kind}`;
  }

  /** A stream changed state: retained health JSON, and the camera's entities announced once. */
  onHealth(h: StreamHealth): void {
    this.guard('health', h.id, () => this.health(h));
  }

  /** A published event: counts, last plate, last person and snapshot follow it. */
  onEvent(e: VisionEvent): void {
    this.guard('event', e.stream_id, () => this.event(e));
  }

  /** Stops pending snapshot timers. */
  stop(): void {
    for (const s of this.snapshots.values()) if (s.timer) clearTimeout(s.timer);
  }

  private guard(what: string, stream: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.log?.warn({ err, stream, component: 'homeassistant' }, `Home Assistant state not updated for a ${what}`);
    }
  }

  private health(h: StreamHealth): void {
    this.announceCamera(h.id);
    const payload = {
      state: h.state,
      online: h.state === 'running',
      fps: Math.round(h.fps * 10) / 10,
      reconnects: h.reconnects,
      since: h.since,
      error: h.lastError ? { code: h.lastError.code, message: h.lastError.message } : null,
    };
    this.out.publishRetained(this.topic(h.id, 'health'), JSON.stringify(payload));
  }

  private event(e: VisionEvent): void {
    const id = e.stream_id;
    this.announceCamera(id);
    const d = e.pipeline_data as Record<string, unknown>;
    const when = Number(e.timestamp);
    const common = { time: Number.isFinite(when) ? new Date(when).toISOString() : null, event_id: d.event_id, seq: e.seq ?? null };
    if (e.analytic_id === 'NFV4-LPR') {
      this.announceLast(id, 'last_plate');
      this.out.publishRetained(this.topic(id, 'last_plate'), JSON.stringify({
        plate_number: d.plate_number ?? '', label: d.label ?? '', direction: d.direction ?? '', plate_confidence: d.plate_confidence ?? null, ...common,
      }));
    } else if (e.analytic_id === 'NFV4-FR') {
      this.announceLast(id, 'last_person');
      this.out.publishRetained(this.topic(id, 'last_person'), JSON.stringify({
        name: d.name ?? d.primary_text ?? 'UNKNOWN', person_id: d.person_id ?? null, known: d.primary_text === 'KNOWN', similarity: d.similarity ?? null, ...common,
      }));
    } else {
      this.updateCounts(id, e.analytic_id, d);
    }
    const jpeg = e.image_jpeg ?? e.jpeg;
    if (jpeg && this.snapshotMs > 0) this.snapshot(id, Buffer.from(jpeg, 'base64'));
  }

  private updateCounts(id: string, analyticId: string, d: Record<string, unknown>): void {
    const kind = KIND[analyticId];
    if (!kind) return;
    let key: string;
    let value: unknown;
    let total = false;
    if (analyticId === 'NFV4-CE') {
      key = `crowd_${slug(String(d.area ?? d.secondary_text ?? 'area'))}_estimate`;
      value = d.estimation;
    } else if (d.trigger === 'line' && d.line) {
      key = `${kind}_${slug(String(d.line))}_${d.in_out === 'out' ? 'out' : 'in'}`;
      value = d.count;
      total = true;
    } else if ((d.trigger === 'zone' || d.trigger === 'occupancy') && d.area_name) {
      key = `${kind}_${slug(String(d.area_name))}_occupancy`;
      value = d.count;
    } else {
      key = `${kind}_in_view`;
      value = d.count;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) return;
    const map = this.counts.get(id) ?? {};
    this.counts.set(id, map);
    if (!(key in map)) this.announceCount(id, key, kind, total);
    if (map[key] === value) return;
    map[key] = value;
    this.out.publishRetained(this.topic(id, 'counts'), JSON.stringify(map));
  }

  private snapshot(id: string, jpeg: Buffer): void {
    const s = this.snapshots.get(id) ?? { last: 0, pending: null, timer: null };
    this.snapshots.set(id, s);
    const now = Date.now();
    if (now - s.last >= this.snapshotMs && !s.timer) {
      s.last = now;
      this.out.publishRetained(this.topic(id, 'snapshot'), jpeg);
      return;
    }
    // Within the interval: keep only the newest, sent when the interval ends.
    s.pending = jpeg;
    s.timer ??= setTimeout(() => {
      s.timer = null;
      if (!s.pending) return;
      s.last = Date.now();
      this.out.publishRetained(this.topic(id, 'snapshot'), s.pending);
      s.pending = null;
    }, Math.max(0, this.snapshotMs - (now - s.last)));
    s.timer.unref();
  }

  private announceCamera(id: string): void {
    if (this.announced.has(`${id}:camera`)) return;
    this.announced.add(`${id}:camera`);
    const health = this.topic(id, 'health');
    this.announce(id, { component: 'binary_sensor', key: 'stream', config: {
      name: 'Stream', state_topic: health, value_template: "{{ 'ON' if value_json.state == 'running' else 'OFF' }}",
      device_class: 'connectivity', json_attributes_topic: health,
    } });
    this.announce(id, { component: 'sensor', key: 'stream_state', config: {
      name: 'Stream state', state_topic: health, value_template: '{{ value_json.state }}', entity_category: 'diagnostic', icon: 'mdi:cctv',
    } });
    this.announce(id, { component: 'sensor', key: 'stream_fps', config: {
      name: 'Stream fps', state_topic: health, value_template: '{{ value_json.fps }}', unit_of_measurement: 'fps', state_class: 'measurement', entity_category: 'diagnostic',
    } });
    if (this.snapshotMs > 0) {
      this.announce(id, { component: 'image', key: 'snapshot', config: { name: 'Snapshot', image_topic: this.topic(id, 'snapshot'), content_type: 'image/jpeg' } });
    }
    const analytics = this.opts.describe?.(id)?.analytics ?? [];
    if (analytics.includes('plate-recognition')) this.announceLast(id, 'last_plate');
    if (analytics.includes('face-recognition')) this.announceLast(id, 'last_person');
  }

  private announceLast(id: string, kind: 'last_plate' | 'last_person'): void {
    if (this.announced.has(`${id}:${kind}`)) return;
    this.announced.add(`${id}:${kind}`);
    const topic = this.topic(id, kind);
    this.announce(id, { component: 'sensor', key: kind, config: kind === 'last_plate'
      ? { name: 'Last plate', state_topic: topic, value_template: '{{ value_json.plate_number }}', json_attributes_topic: topic, icon: 'mdi:car' }
      : { name: 'Last person', state_topic: topic, value_template: '{{ value_json.name }}', json_attributes_topic: topic, icon: 'mdi:account' } });
  }

  private announceCount(id: string, key: string, kind: string, total: boolean): void {
    const words = key.split('_').join(' ');
    this.announce(id, { component: 'sensor', key, config: {
      name: words.charAt(0).toUpperCase() + words.slice(1), state_topic: this.topic(id, 'counts'),
      value_template: `{{ value_json['${key}'] }}`, unit_of_measurement: kind === 'vehicles' ? 'vehicles' : 'people',
      state_class: total ? 'total_increasing' : 'measurement', icon: kind === 'vehicles' ? 'mdi:car-multiple' : 'mdi:account-group',
    } });
  }

  private announce(streamId: string, e: Entity): void {
    if (!this.discovery) return;
    const node = `vigil_${this.opts.nodeNum}`;
    const object = `${slug(streamId)}_${e.key}`;
    const name = this.opts.describe?.(streamId)?.name;
    const config = {
      ...e.config,
      unique_id: `${node}_${object}`,
      object_id: `vigil_${object}`,
      availability_topic: this.out.availabilityTopic,
      payload_available: 'online',
      payload_not_available: 'offline',
      device: {
        identifiers: [`${node}_${slug(streamId)}`],
        name: `Vigil ${name ?? streamId}`,
        manufacturer: 'Vigil',
        model: 'Camera stream',
        sw_version: this.opts.version,
      },
      origin: { name: 'Vigil', sw_version: this.opts.version },
    };
    this.out.publishRetained(`${this.prefix}/${e.component}/${node}/${object}/config`, JSON.stringify(config));
  }
}
