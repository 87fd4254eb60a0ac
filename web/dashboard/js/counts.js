// Line and zone counters (GET /api/counts) with crossings per minute over the last 30 minutes.
import { api } from './api.js';
import { $, ago, barChart, el, note, toast } from './ui.js';

const POLL_MS = 5000;
const MINUTES = 30;
let timer = null;

/** Crossings per minute for each stream/line-or-zone name, from the stored counting events. */
function perMinute(events) {
  const now = Date.now();
  const series = new Map();
  for (const ev of events) {
    const d = ev.pipeline_data ?? {};
    const name = d.line || d.area_name;
    if (!name) continue;
    const bucket = MINUTES - 1 - Math.floor((now - Number(ev.timestamp)) / 60000);
    if (bucket < 0 || bucket >= MINUTES) continue;
    const key = `${ev.stream_id}/${name}`;
    const arr = series.get(key) ?? new Array(MINUTES).fill(0);
    arr[bucket]++;
    series.set(key, arr);
  }
  return series;
}

async function refresh() {
  let counters;
  try {
    ({ counters } = await api('/api/counts'));
  } catch (err) {
    const msg = err.status === 404 ? 'Counting is not available on this daemon.' : `Counts cannot be read: ${err.code}: ${err.message}`;
    $('#counts').replaceChildren(note(msg, err.status === 404 ? 'muted' : 'error'));
    return;
  }
  let series = new Map();
  try {
    const { events } = await api('/api/events?analytic_id=NFV4-PC,NFV4-VC&limit=1000');
    series = perMinute(events);
  } catch {
    /* counts without charts */
  }
  if (!counters.length) {
    $('#counts').replaceChildren(note('No lines or zones yet. Add `lines:` or `zones:` to a stream with people-counting or vehicle-counting.'));
    return;
  }
  $('#counts').replaceChildren(
    ...counters.map((c) =>
      el(
        'article',
        { class: 'card counter', 'data-stream': c.streamId, 'data-name': c.name },
        el('header', {}, el('strong', {}, c.name), el('span', { class: 'tag' }, `${c.kind} · ${c.analytic}`)),
        el('p', { class: 'muted small' }, c.streamId),
        el(
          'dl',
          { class: 'stats big' },
          el('dt', {}, 'in'), el('dd', { 'data-role': 'in' }, String(c.in)),
          el('dt', {}, 'out'), el('dd', { 'data-role': 'out' }, String(c.out)),
          c.current !== null ? [el('dt', {}, 'inside now'), el('dd', { 'data-role': 'current' }, String(c.current))] : null,
        ),
        barChart(series.get(`${c.streamId}/${c.name}`) ?? new Array(MINUTES).fill(0), {
          title: `${c.name}: crossings per minute, last ${MINUTES} minutes`,
          labels: Array.from({ length: MINUTES }, (_, i) => `${MINUTES - i} min ago:`),
        }),
        el('p', { class: 'muted small' }, `per minute, last ${MINUTES} min · since reset ${ago(c.since)}`),
      ),
    ),
  );
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

$('#counts-reset').addEventListener('click', async () => {
  if (!confirm('Reset every counter to 0?')) return;
  try {
    const { reset } = await api('/api/counts/reset', { method: 'POST', json: {} });
    toast(`${reset} counter(s) reset`);
    await refresh();
  } catch (err) {
    toast(err.status === 401 ? 'Resetting needs the admin token.' : `${err.code}: ${err.message}`, 'error');
  }
});
