// Per-stream health: state, fps in (decoded) and out (analysed), drops, reconnects, last error.
import { api } from './api.js';
import { $, ago, el, note, toast } from './ui.js';

const POLL_MS = 2000;
let timer = null;
let last = null; // previous status, for analysed/dropped rates
let latest = new Map();

const STATE_TEXT = {
  running: 'running',
  starting: 'starting',
  backoff: 'backoff: reconnecting',
  stalled: 'stalled',
  failed: 'failed',
  disabled: 'disabled',
};

function rate(now, prev, id, key) {
  const a = now.pipeline.find((p) => p.streamId === id);
  const b = prev?.pipeline.find((p) => p.streamId === id);
  if (!a || !b || now.at <= prev.at) return null;
  return Math.max(0, (a[key] - b[key]) / ((now.at - prev.at) / 1000));
}

function fmt(v) {
  return v === null || v === undefined ? '–' : v.toFixed(1);
}

function card(h, status) {
  const out = rate(status, last, h.id, 'framesAnalysed');
  const dropped = rate(status, last, h.id, 'framesDropped');
  const err = h.lastError;
  return el(
    'article',
    { class: `card stream state-${h.state}`, 'data-stream': h.id, 'data-state': h.state },
    el('header', {}, el('strong', {}, h.id), el('span', { class: `badge ${h.state}`, 'data-role': 'state' }, STATE_TEXT[h.state] ?? h.state)),
    el(
      'dl',
      { class: 'stats' },
      el('dt', {}, 'fps in'), el('dd', { 'data-role': 'fps-in' }, fmt(h.fps)),
      el('dt', {}, 'fps out'), el('dd', { 'data-role': 'fps-out' }, fmt(out)),
      el('dt', {}, 'dropped/s'), el('dd', {}, fmt(dropped)),
      el('dt', {}, 'reconnects'), el('dd', { 'data-role': 'reconnects' }, String(h.reconnects)),
      el('dt', {}, 'frames'), el('dd', {}, String(h.frames)),
      el('dt', {}, 'since'), el('dd', {}, ago(h.since)),
    ),
    h.state === 'backoff' && h.nextRetryAt ? el('p', { class: 'muted' }, `next attempt in ${Math.max(0, Math.round((h.nextRetryAt - Date.now()) / 1000))} s`) : null,
    // Red while it explains the current trouble; grey history once the stream is back.
    err ? el('p', { class: h.state === 'running' ? 'muted small' : 'error', 'data-role': 'last-error' }, `Last error ${ago(err.at)}: ${err.code}: ${err.message}`) : null,
    el('p', { class: 'muted small' }, h.url),
    // Admin controls: hidden from viewers (body[data-role=viewer]); the API refuses them anyway.
    el(
      'div',
      { class: 'row admin-only' },
      h.state === 'disabled'
        ? el('button', { class: 'small', 'data-action': 'enable', onclick: () => act(h.id, 'enable') }, 'Enable')
        : el('button', { class: 'secondary small', 'data-action': 'disable', onclick: () => act(h.id, 'disable') }, 'Disable'),
      el('button', { class: 'secondary small', 'data-action': 'edit', onclick: () => void edit(h.id) }, 'Edit'),
      el('button', { class: 'danger small', 'data-action': 'remove', onclick: () => act(h.id, 'remove') }, 'Remove'),
    ),
  );
}

function mb(n) {
  return `${(n / 1e6).toFixed(1)} MB`;
}

/** Store size, cap, growth per day and days left before the cap. */
function storeText(st) {
  if (!st) return '';
  const parts = [`Store ${mb(st.size_bytes ?? 0)}${st.max_bytes ? ` of ${mb(st.max_bytes)}` : ' (no cap)'}`];
  if (typeof st.bytes_per_day === 'number') parts.push(`${mb(st.bytes_per_day)}/day`);
  if (typeof st.days_to_cap === 'number') parts.push(st.days_to_cap > 0 ? `${st.days_to_cap} days to the cap` : 'at the cap (oldest deleted)');
  return parts.join(' · ');
}

async function act(id, action) {
  if (action === 'remove' && !confirm(`Remove stream ${id}?`)) return;
  try {
    if (action === 'remove') await api(`/api/streams/${encodeURIComponent(id)}`, { method: 'DELETE' });
    else await api(`/api/streams/${encodeURIComponent(id)}/${action}`, { method: 'POST' });
    toast(`Stream ${id}: ${action === 'remove' ? 'removed' : `${action}d`}`);
  } catch (err) {
    toast(`${err.code}: ${err.message}`, 'error');
  }
  await refresh();
}

// The stream being edited in the form (null: the form adds) and its URL as shown, masked.
let editing = null;

/** Opens the add form on a stream's stored settings; saving sends only what PUT needs. */
async function edit(id) {
  let s;
  try {
    s = (await api('/api/streams')).streams.find((x) => x.id === id);
  } catch (err) {
    toast(`${err.code}: ${err.message}`, 'error');
    return;
  }
  if (!s) return toast(`Stream ${id} is gone`, 'error');
  if (s.origin === 'config') return toast(`Stream ${id} is defined in the config file: change it there and reload.`, 'error');
  const f = $('#stream-form');
  editing = { id, url: s.url };
  f.elements.id.value = id;
  f.elements.id.readOnly = true;
  f.elements.name.value = s.name ?? '';
  f.elements.url.value = s.url;
  f.elements.fps.value = s.fps ?? '';
  for (const c of f.querySelectorAll('input[name=analytics]')) c.checked = (s.analytics ?? []).includes(c.value);
  $('#stream-form-title').textContent = `Edit stream ${id}`;
  $('#stream-submit').textContent = 'Save changes';
  $('#stream-cancel').hidden = false;
  f.scrollIntoView({ block: 'nearest' });
  f.elements.url.focus();
}

function resetForm() {
  const f = $('#stream-form');
  editing = null;
  f.reset();
  f.elements.id.readOnly = false;
  $('#stream-form-title').textContent = 'Add a stream';
  $('#stream-submit').textContent = 'Add stream';
  $('#stream-cancel').hidden = true;
}

async function saveStream(e) {
  e.preventDefault();
  const f = e.target;
  const url = f.elements.url.value.trim();
  const name = f.elements.name.value.trim();
  const analytics = [...f.querySelectorAll('input[name=analytics]:checked')].map((c) => c.value);
  const fps = f.elements.fps.value ? Number(f.elements.fps.value) : undefined;
  try {
    if (editing) {
      const id = editing.id;
      const body = { analytics, name: name || null };
      if (fps !== undefined) body.fps = fps;
      // Left as shown (masked): keep the stored URL and its credentials.
      if (url !== editing.url) {
        if (url.includes('***')) return toast('Type the whole URL with its credentials, or leave it as shown to keep it.', 'error');
        body.url = url;
      }
      await api(`/api/streams/${encodeURIComponent(id)}`, { method: 'PUT', json: body });
      toast(`Stream ${id} changed: restarting`);
    } else {
      const body = { id: f.elements.id.value.trim(), url, analytics };
      if (name) body.name = name;
      if (fps !== undefined) body.fps = fps;
      await api('/api/streams', { method: 'POST', json: body });
      toast(`Stream ${body.id} added`);
    }
    resetForm();
  } catch (err) {
    toast(`${err.code}: ${err.message}`, 'error');
  }
  await refresh();
}

export function init() {
  $('#stream-form').addEventListener('submit', (e) => void saveStream(e));
  $('#stream-cancel').addEventListener('click', resetForm);
}

async function refresh() {
  let status;
  try {
    status = { ...(await api('/api/status')), at: Date.now() };
  } catch (err) {
    $('#health').replaceChildren(note(`Status cannot be read: ${err.code}: ${err.message}`, 'error'));
    return;
  }
  latest = new Map(status.streams.map((s) => [s.id, s]));
  render(status);
  last = status;
}

function render(status) {
  const streams = [...latest.values()];
  const counts = {};
  for (const s of streams) counts[s.state] = (counts[s.state] ?? 0) + 1;
  $('#health-summary').textContent = `${streams.length} stream(s): ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')} · uptime ${Math.round(status.uptime_s)} s · v${status.version}`;
  const store = $('#store-summary');
  if (store) store.textContent = storeText(status.store);
  $('#health').replaceChildren(
    ...(streams.length ? streams.map((h) => card(h, status)) : [note('No streams yet. Add one below (admin), in vigil.yaml (streams:) or with `vigil stream add ID URL`.')]),
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

/** A `status` control message: show the new state at once, without waiting for the poll. */
export function onStatus(msg) {
  if (!timer || !msg.stream_id || !last) return;
  const prev = latest.get(msg.stream_id) ?? {};
  latest.set(msg.stream_id, { ...prev, ...msg, id: msg.stream_id });
  render(last);
}
