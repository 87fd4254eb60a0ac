// Lines and zones over a picture: an SVG overlay in normalised coordinates (0..1, as the
// daemon stores them), and the admin editor that draws them on a snapshot and saves them.
import { api } from './api.js';
import { $, el, toast } from './ui.js';

const NS = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  return n;
}

/** Creates an overlay (no argument) or redraws `svg` with `geometry` ({lines, zones}). */
export function overlay(svg, geometry = { lines: [], zones: [] }, pending = []) {
  const s = svg ?? svgEl('svg', { class: 'geo-svg', viewBox: '0 0 1 1', preserveAspectRatio: 'none' });
  s.replaceChildren();
  for (const z of geometry.zones ?? []) {
    const p = svgEl('polygon', { points: z.polygon.map((q) => q.join(',')).join(' '), class: 'zone', 'data-name': z.name });
    p.append(Object.assign(svgEl('title', {}), { textContent: z.name }));
    s.append(p);
  }
  for (const l of geometry.lines ?? []) {
    const [[x1, y1], [x2, y2]] = l.points;
    const line = svgEl('line', { x1, y1, x2, y2, class: 'line', 'data-name': l.name });
    line.append(Object.assign(svgEl('title', {}), { textContent: l.name }));
    s.append(line);
  }
  if (pending.length) s.append(svgEl('polyline', { points: pending.map((q) => q.join(',')).join(' '), class: 'pending' }));
  return s;
}

let state = null;

function redraw() {
  overlay($('#geo-svg'), state.geometry, state.points);
  $('#geo-list').replaceChildren(
    ...state.geometry.lines.map((l) => el('li', {}, `line ${l.name}`)),
    ...state.geometry.zones.map((z) => el('li', {}, `zone ${z.name} (${z.polygon.length} points)`)),
  );
}

function nextName(prefix) {
  const used = new Set([...state.geometry.lines, ...state.geometry.zones].map((g) => g.name));
  let i = 1;
  while (used.has(`${prefix}-${i}`)) i++;
  return `${prefix}-${i}`;
}

function setMode(mode) {
  state.mode = mode;
  state.points = [];
  $('#geo-name').value = nextName(mode);
  $('#geo-close-zone').hidden = mode !== 'zone';
  for (const m of ['line', 'zone']) $(`#geo-mode-${m}`).toggleAttribute('aria-pressed', m === mode);
  redraw();
}

function click(e) {
  if (!state) return;
  const r = $('#geo-img').getBoundingClientRect();
  const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 1000) / 1000;
  state.points.push([round((e.clientX - r.left) / r.width), round((e.clientY - r.top) / r.height)]);
  if (state.mode === 'line' && state.points.length === 2) {
    state.geometry.lines.push({ name: $('#geo-name').value.trim() || nextName('line'), points: state.points });
    setMode('line');
    return;
  }
  redraw();
}

function closeZone() {
  if (state.points.length < 3) return toast('A zone needs at least three points.', 'error');
  state.geometry.zones.push({ name: $('#geo-name').value.trim() || nextName('zone'), polygon: state.points });
  setMode('zone');
}

async function save() {
  try {
    await api(`/api/geometry/${encodeURIComponent(state.id)}`, { method: 'PUT', json: state.geometry });
    toast(`Lines and zones of ${state.id} saved; counting uses them now.`);
    $('#geo-dialog').close();
    state.onSaved?.();
  } catch (err) {
    toast(`${err.code}: ${err.message}`, 'error');
  }
}

/** Opens the editor for a stream on a fresh snapshot; `onSaved` runs after a successful save. */
export async function edit(id, onSaved) {
  let geometry = { lines: [], zones: [] };
  try {
    geometry = await api(`/api/geometry/${encodeURIComponent(id)}`);
  } catch {
    /* none yet */
  }
  state = { id, geometry: { lines: [...(geometry.lines ?? [])], zones: [...(geometry.zones ?? [])] }, points: [], mode: 'line', onSaved };
  $('#geo-title').textContent = `Lines and zones of ${id}`;
  try {
    const res = await api(`/api/streams/${encodeURIComponent(id)}/snapshot.jpg`, { raw: true });
    $('#geo-img').src = URL.createObjectURL(await res.blob());
  } catch (err) {
    toast(`No snapshot of ${id}: ${err.code}: ${err.message}`, 'error');
    return;
  }
  setMode('line');
  $('#geo-dialog').showModal();
}

export function init() {
  $('#geo-svg').addEventListener('click', click);
  $('#geo-mode-line').addEventListener('click', () => setMode('line'));
  $('#geo-mode-zone').addEventListener('click', () => setMode('zone'));
  $('#geo-close-zone').addEventListener('click', closeZone);
  $('#geo-clear').addEventListener('click', () => {
    state.geometry = { lines: [], zones: [] };
    setMode(state.mode);
  });
  $('#geo-save').addEventListener('click', () => void save());
}
