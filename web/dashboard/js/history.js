// Event history over the store: time range, stream, analytic, plate and person search,
// newest first, paged by seq cursors; export of everything the filters match as CSV.
import { ANALYTICS, api } from './api.js';
import { eventCard } from './feed.js';
import { $, el, note, toast } from './ui.js';

const PAGE = 24;
let cursors = [undefined]; // `before` of each page shown so far; the last is the current page
let nextBefore = null;

/** The query of the form (without paging), as /api/events takes it. */
function query() {
  const q = new URLSearchParams();
  const ms = (id) => {
    const v = $(id).value;
    return v ? String(new Date(v).getTime()) : '';
  };
  const set = (k, v) => v && q.set(k, v);
  set('from', ms('#h-from'));
  set('to', ms('#h-to'));
  set('stream_id', $('#h-stream').value.trim());
  set('analytic_id', $('#h-analytic').value);
  set('plate', $('#h-plate').value.trim());
  set('person', $('#h-person').value.trim());
  return q;
}

async function load() {
  const q = query();
  q.set('limit', String(PAGE));
  q.set('crops', '1');
  const before = cursors[cursors.length - 1];
  if (before !== undefined) q.set('before', String(before));
  const list = $('#history');
  let page;
  try {
    page = await api(`/api/events?${q}`);
  } catch (err) {
    list.replaceChildren(note(`Events cannot be loaded: ${err.code}: ${err.message}`, 'error'));
    return;
  }
  nextBefore = page.next?.before ?? null;
  list.replaceChildren(...page.events.map((ev) => eventCard(ev)));
  const n = cursors.length;
  $('#h-page').textContent = page.events.length ? `page ${n} · #${page.events[0].seq} – #${page.events[page.events.length - 1].seq}` : `page ${n}`;
  $('#h-newer').disabled = n === 1;
  $('#h-older').disabled = nextBefore === null;
  $('#h-empty').hidden = page.events.length > 0;
}

function search() {
  cursors = [undefined];
  void load();
}

/** Every matching event, 1000 a request, as CSV (the columns of `vigil events export --format csv`, without crops). */
async function exportCsv() {
  const cols = ['seq', 'event_id', 'timestamp', 'time_iso', 'analytic_id', 'stream_id', 'primary_text', 'secondary_text', 'pipeline_data'];
  const cell = (v) => {
    const s = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [cols.join(',')];
  let before;
  $('#h-export').disabled = true;
  try {
    for (;;) {
      const q = query();
      q.set('limit', '1000');
      if (before !== undefined) q.set('before', String(before));
      const page = await api(`/api/events?${q}`);
      for (const ev of page.events) {
        const d = ev.pipeline_data ?? {};
        const row = { ...ev, event_id: d.event_id, time_iso: new Date(Number(ev.timestamp)).toISOString(), primary_text: d.primary_text, secondary_text: d.secondary_text, pipeline_data: d };
        lines.push(cols.map((c) => cell(row[c])).join(','));
      }
      $('#h-summary').textContent = `exporting… ${lines.length - 1} events`;
      if (!page.next) break;
      before = page.next.before;
    }
  } catch (err) {
    toast(`Export failed: ${err.code}: ${err.message}`, 'error');
    return;
  } finally {
    $('#h-export').disabled = false;
  }
  const a = el('a', { href: URL.createObjectURL(new Blob([`${lines.join('\n')}\n`], { type: 'text/csv' })), download: `vigil-events-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  $('#h-summary').textContent = `${lines.length - 1} events exported`;
}

/** Suggestions for the stream box: today's streams; a removed camera's id can still be typed. */
async function fillStreams() {
  try {
    const { streams } = await api('/api/streams');
    $('#h-streams').replaceChildren(...streams.map((s) => el('option', { value: s.id }, s.name ?? s.id)));
  } catch {
    /* typing an id still works */
  }
}

export function init() {
  const sel = $('#h-analytic');
  for (const [id, name] of Object.entries(ANALYTICS)) sel.append(el('option', { value: id }, `${name} (${id})`));
  $('#history-form').addEventListener('submit', (e) => {
    e.preventDefault();
    search();
  });
  $('#h-older').addEventListener('click', () => {
    if (nextBefore === null) return;
    cursors.push(nextBefore);
    void load();
  });
  $('#h-newer').addEventListener('click', () => {
    if (cursors.length > 1) cursors.pop();
    void load();
  });
  $('#h-export').addEventListener('click', () => void exportCsv());
}

export async function show() {
  await fillStreams();
  await load();
}
