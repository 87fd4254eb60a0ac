// Crowd estimation per area: the latest NFV4-CE estimate, its trend and the frame it came from.
import { api, token } from './api.js';
import { $, el, fmtTime, lineChart, note } from './ui.js';

const POLL_MS = 5000;
let timer = null;
const cropUrls = new Map(); // event_id -> blob: URL, so a poll does not refetch the same crop

async function crop(eventId) {
  if (cropUrls.has(eventId)) return cropUrls.get(eventId);
  const res = await fetch(`/api/events/${encodeURIComponent(eventId)}/crop.jpg`, { headers: { authorization: `Bearer ${token()}` } });
  if (!res.ok) return null;
  const url = URL.createObjectURL(await res.blob());
  cropUrls.set(eventId, url);
  return url;
}

async function refresh() {
  let events;
  try {
    ({ events } = await api('/api/events?analytic_id=NFV4-CE&limit=500'));
  } catch (err) {
    $('#crowd').replaceChildren(note(`Estimates cannot be read: ${err.code}: ${err.message}`, 'error'));
    return;
  }
  if (!events.length) {
    $('#crowd').replaceChildren(note('No crowd estimates yet. Enable crowd-estimation on a stream and give it `areas:`.'));
    return;
  }
  const areas = new Map();
  for (const ev of events) {
    const d = ev.pipeline_data ?? {};
    const key = `${ev.stream_id}/${d.area ?? d.secondary_text ?? ''}`;
    const list = areas.get(key) ?? [];
    list.push(ev);
    areas.set(key, list);
  }
  const cards = [];
  for (const [key, list] of areas) {
    const latest = list[0]; // newest first
    const d = latest.pipeline_data;
    const values = list.map((e) => Number(e.pipeline_data.estimation ?? 0)).reverse();
    const img = await crop(d.event_id).catch(() => null);
    cards.push(
      el(
        'article',
        { class: 'card crowd', 'data-area': key },
        el('header', {}, el('strong', {}, d.area ?? d.secondary_text ?? 'area'), el('span', { class: 'muted' }, latest.stream_id)),
        el('p', { class: 'estimate' }, Number(d.estimation ?? 0).toFixed(1), el('span', { class: 'muted small' }, ' people')),
        lineChart(values, { title: `estimates of ${key}, oldest to newest` }),
        el('p', { class: 'muted small' }, `${values.length} estimates · latest ${fmtTime(latest.timestamp)} · every ${d.interval ?? '?'} s`),
        img ? el('img', { class: 'crop wide', src: img, alt: `frame of ${key}` }) : null,
      ),
    );
  }
  $('#crowd').replaceChildren(...cards);
}

export async function show() {
  await refresh();
  clearInterval(timer);
  timer = setInterval(refresh, POLL_MS);
}

export function hide() {
  clearInterval(timer);
  timer = null;
}
