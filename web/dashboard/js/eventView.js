// One event laid out for people: the crop large, its fields as a list, the raw JSON below.
import { ANALYTICS, api, cropUrl } from './api.js';
import { $, el, fmtTime, showJson, toast } from './ui.js';

// Shown first, in this order, when present; the rest of pipeline_data follows.
const FIELDS = ['primary_text', 'secondary_text', 'name', 'person_id', 'relationship', 'similarity', 'plate_number', 'plate_confidence', 'plate_type', 'label', 'direction', 'line', 'area_name', 'area', 'count', 'estimation', 'confidence'];

function fieldRows(ev) {
  const d = ev.pipeline_data ?? {};
  const keys = [...FIELDS.filter((k) => k in d), ...Object.keys(d).filter((k) => !FIELDS.includes(k)).sort()];
  const rows = [
    ['analytic', `${ANALYTICS[ev.analytic_id] ?? ev.analytic_id} (${ev.analytic_id})`],
    ['stream', ev.stream_id],
    ['time', `${new Date(Number(ev.timestamp)).toISOString()} (${fmtTime(ev.timestamp)})`],
    ['seq', ev.seq ?? '–'],
    ['stream address', ev.stream_address],
    ...keys.map((k) => [k, d[k]]),
  ];
  return rows
    .filter(([, v]) => v !== undefined && v !== '')
    .flatMap(([k, v]) => [el('dt', {}, k), el('dd', { 'data-field': k }, typeof v === 'object' ? JSON.stringify(v) : String(v))]);
}

/** Opens the event dialog for an event_id: crop, fields, raw JSON (fetched whole, crop included). */
export async function showEvent(eventId) {
  let ev;
  try {
    ev = await api(`/api/events/${encodeURIComponent(eventId)}`);
  } catch (err) {
    toast(`${err.code}: ${err.message}`, 'error');
    return;
  }
  const src = cropUrl(ev);
  showJson(`Event ${eventId}`, ev, el(
    'div',
    { class: 'event-detail' },
    src ? el('img', { class: 'crop big', src, alt: `crop of ${ev.analytic_id} event` }) : el('div', { class: 'crop none big' }, 'no crop stored'),
    el('dl', { class: 'fields', id: 'event-fields' }, ...fieldRows(ev)),
  ));
  $('#json-dialog').dataset.event = eventId;
}
