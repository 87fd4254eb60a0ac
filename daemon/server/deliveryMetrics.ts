import { Counter, Gauge, type Registry } from 'prom-client';
import type { MqttSinkStats } from '../sinks/mqttOutbox.js';

/** One event-socket subscriber as the hub reports it (see EventSocketHub.stats). */
export interface SubscriberSnapshot {
  mode: string;
  bufferedAmount: number;
  missed: number;
}

/** Delivery parts `/metrics` reads at each scrape; both optional (no MQTT configured, tests). */
export interface DeliverySource {
  /** Per-subscriber snapshot of the event socket. */
  eventSocket?(): SubscriberSnapshot[];
  /** The MQTT outbox's counters, or null without MQTT. */
  mqtt?(): MqttSinkStats | null;
}

const MODES = ['live', 'replay', 'behind'];

/** How events leave the daemon: event-socket subscribers by mode and backlog, and the MQTT outbox. */
export function registerDeliveryMetrics(registry: Registry, source: DeliverySource): void {
  const registers = [registry];
  if (source.eventSocket) {
    const subs = (): SubscriberSnapshot[] => safe(() => source.eventSocket!(), []);
    new Gauge({
      name: 'vigil_event_socket_subscribers',
      help: 'Event-socket subscribers by mode: live, replay (catching up from the store), behind (over their send budget)',
      labelNames: ['mode'],
      registers,
      collect() {
        this.reset();
        const list = subs();
        for (const mode of MODES) this.set({ mode }, list.filter((s) => s.mode === mode).length);
      },
    });
    new Gauge({
      name: 'vigil_event_socket_buffered_bytes',
      help: 'Bytes queued in the kernel and uWS for all event-socket subscribers',
      registers,
      collect() {
        this.set(subs().reduce((n, s) => n + s.bufferedAmount, 0));
      },
    });
    new Gauge({
      name: 'vigil_event_socket_missed_events',
      help: 'Events subscribers that fell behind still have to catch up on from the store',
      registers,
      collect() {
        this.set(subs().reduce((n, s) => n + s.missed, 0));
      },
    });
  }
  if (!source.mqtt) return;
  const mqtt = (): MqttSinkStats | null => safe(() => source.mqtt!(), null);
  const gauge = (name: string, help: string, value: (m: MqttSinkStats) => number): void => {
    new Gauge({ name, help, registers, collect() { const m = mqtt(); if (m) this.set(value(m)); else this.reset(); } });
  };
  const counter = (name: string, help: string, value: (m: MqttSinkStats) => number): void => {
    new Counter({ name, help, registers, collect() { this.reset(); const m = mqtt(); if (m) this.inc(value(m)); } });
  };
  gauge('vigil_mqtt_connected', '1 while connected to the MQTT broker', (m) => (m.connected ? 1 : 0));
  gauge('vigil_mqtt_backlog_events', 'Stored events the broker has not acknowledged yet', (m) => m.backlog);
  gauge('vigil_mqtt_inflight_messages', 'Events published and awaiting PUBACK', (m) => m.inflight);
  gauge('vigil_mqtt_acked_seq', 'Highest event seq the broker acknowledged', (m) => m.ackedSeq);
  counter('vigil_mqtt_events_published_total', 'Events the broker acknowledged since start', (m) => m.published);
  counter('vigil_mqtt_events_dropped_total', 'Events skipped because the outbox was over outbox_max', (m) => m.dropped);
  counter('vigil_mqtt_reconnects_total', 'Reconnects to the MQTT broker', (m) => m.reconnects);
  counter('vigil_mqtt_unstored_published_total', 'Events sent live while the store was full (no seq)', (m) => m.unstoredSent);
  counter('vigil_mqtt_unstored_dropped_total', 'Events lost while both the store was full and the broker was away', (m) => m.unstoredDropped);
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
