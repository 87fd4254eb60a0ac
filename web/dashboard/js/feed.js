// Live event feed: the latest stored events, then everything the event socket brings, newest first.
import { ANALYTICS, api, cropUrl } from './api.js';
import { showEvent } from './eventView.js';
import { $, el, fmtTime, toast } from './ui.js';

const MAX = 100;
const seen = new Set();
let paused = false;
let loadedFor = null;

/** One line about what the event says, per analytic. */
export function summary(ev) {
  const d = ev.pipeline_data ?? {};
  switch (ev.analytic_id) {
    case 'NFV4-FR':
      return d.primary_text === 'KNOWN' ? `${d.name ?? d.person_id} (${Math.round((d.similarity ?? 0) * 100)} %)` : 'Unknown face';
    case 'NFV4-LPR':
      return `${d.plate_number ?? '?'} · ${d.label ?? ''} ${d.direction ?? ''}`.trim();
    case 'NFV4-CE':
      return `${Number(d.estimation ?? 0).toFixed(1)} people in ${d.area ?? d.secondary_text ?? ''}`;
    default:
      return [d.primary_text, d.line ? `line ${d.line}` : d.area_name, d.direction].filter(Boolean).join(' · ');
  }
}

/** A card for one event; click shows its full JSON. */
export function eventCard(ev) {
  const src = cropUrl(ev);
  const id = ev.pipeline_data?.event_id;
  return el(
    'li',
    { class: 'card event', 'data-seq': ev.seq, 'data-analytic': ev.analytic_id, 'data-stream': ev.stream_id, tabindex: 0, title: 'Show the event', onclick: () => details(id) },
    src ? el('img', { class: 'crop', src, alt: `crop of ${ev.analytic_id} event`, loading: 'lazy' }) : el('div', { class: 'crop none' }, 'no crop'),
    el(
      'div',
      { class: 'meta' },
      el('strong', {}, summary(ev) || ev.analytic_id),
      el('span', { class: `tag ${ev.analytic_id}` }, ANALYTICS[ev.analytic_id] ?? ev.analytic_id),
      el('span', { class: 'muted' }, `${ev.stream_id} · ${fmtTime(ev.timestamp)} · #${ev.seq ?? '?'}`),
    ),
  );
}

function details(eventId) {
  void showEvent(eventId);
}

function filters() {
  return { stream: $('#feed-stream').value, analytic: $('#feed-analytic').value };
}

function matches(ev) {
  const f = filters();
  return (!f.stream || ev.stream_id === f.stream) && (!f.analytic || ev.analytic_id === f.analytic);
}

function add(ev, atTop) {
  if (ev.seq !== undefined) {
    if (seen.has(ev.seq)) return;
    seen.add(ev.seq);
  }
  const list = $('#feed');
  const card = eventCard(ev);
  if (atTop) list.prepend(card);
  else list.append(card);
  while (list.children.length > MAX) list.lastElementChild.remove();
  $('#feed-empty').hidden = true;
}

/** Reloads the newest stored events for the current filters. */
async function reload() {
  const f = filters();
  const q = new URLSearchParams({ limit: '30', crops: '1' });
  if (f.stream) q.set('stream_id', f.stream);
  if (f.analytic) q.set('analytic_id', f.analytic);
  $('#feed').replaceChildren();
  seen.clear();
  $('#feed-empty').hidden = false;
  try {
    const { events } = await api(`/api/events?${q}`);
    for (const ev of events) add(ev, false);
    loadedFor = JSON.stringify(f);
  } catch (err) {
    toast(`Events cannot be loaded: ${err.code}: ${err.message}`, 'error');
  }
}

async function fillStreams() {
  try {
    const { streams } = await api('/api/streams');
    const sel = $('#feed-stream');
    const keep = sel.value;
    sel.replaceChildren(el('option', { value: '' }, 'All streams'), ...streams.map((s) => el('option', { value: s.id }, s.name ? `${s.name} (${s.id})` : s.id)));
    sel.value = streams.some((s) => s.id === keep) ? keep : '';
  } catch {
    /* the feed works without the list */
  }
}

export function init() {
  const sel = $('#feed-analytic');
  for (const [id, name] of Object.entries(ANALYTICS)) sel.append(el('option', { value: id }, `${name} (${id})`));
  $('#feed-stream').addEventListener('change', reload);
  $('#feed-analytic').addEventListener('change', reload);
  $('#feed-pause').addEventListener('click', () => {
    paused = !paused;
    $('#feed-pause').textContent = paused ? 'Resume' : 'Pause';
    if (!paused) void reload();
  });
}

export async function show() {
  await fillStreams();
  if (loadedFor !== JSON.stringify(filters())) await reload();
}

/** An event from the socket. */
export function onEvent(ev) {
  if (!paused && matches(ev)) add(ev, true);
}

/** The socket skipped events (slow consumer): reload from the store. */
export function onGap() {
  if (!paused) void reload();
}
