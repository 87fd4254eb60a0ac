// Live view: one tile per camera with its latest annotated frame (from /ws/live) and its
// lines and zones drawn on top; admins open the editor from a tile to draw lines and zones on the picture.
import { api } from './api.js';
import { edit, overlay } from './geometry.js';
import { openLive } from './liveSource.js';
import { $, el, note } from './ui.js';

const feeds = new Map();

function tile(s) {
  const img = el('img', { class: 'live-img', alt: `latest picture of ${s.id}` });
  const svg = overlay();
  const status = el('p', { class: 'muted small', 'data-role': 'live-status' }, 'connecting…');
  const card = el(
    'article',
    { class: 'card live', 'data-stream': s.id },
    el('header', {}, el('strong', {}, s.name ?? s.id), el('button', { class: 'secondary small admin-only', 'data-action': 'geometry', onclick: () => void edit(s.id, () => drawGeometry(s.id, svg)) }, 'Lines & zones')),
    el('div', { class: 'geo-stage' }, img, svg),
    status,
  );
  let url = null;
  feeds.set(s.id, openLive(
    s.id,
    (blob, source) => {
      if (url) URL.revokeObjectURL(url);
      url = URL.createObjectURL(blob);
      img.src = url;
      card.dataset.live = 'yes';
      card.dataset.source = source;
      status.textContent = `${source === 'socket' ? 'live' : 'snapshot'}, updated ${new Date().toLocaleTimeString([], { hour12: false })}`;
      status.className = 'muted small';
    },
    (err) => {
      status.textContent = `No picture: ${err.code}: ${err.message}`;
      status.className = 'error small';
    },
  ));
  void drawGeometry(s.id, svg);
  return card;
}

async function drawGeometry(id, svg) {
  try {
    overlay(svg, await api(`/api/geometry/${encodeURIComponent(id)}`));
  } catch {
    /* no geometry for this stream (or not available): nothing to draw */
  }
}

export async function show() {
  hide();
  let streams = [];
  try {
    ({ streams } = await api('/api/streams'));
  } catch (err) {
    $('#live').replaceChildren(note(`Streams cannot be read: ${err.code}: ${err.message}`, 'error'));
    return;
  }
  const shown = streams.filter((s) => s.enabled !== false);
  $('#live-empty').hidden = shown.length > 0;
  $('#live').replaceChildren(...shown.map(tile));
}

/** Leaving the page stops every feed: no camera connection while nobody watches. */
export function hide() {
  for (const f of feeds.values()) f.close();
  feeds.clear();
}
