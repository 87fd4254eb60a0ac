// Face gallery: people and their photos, enrol by upload, delete, and confirm or reject recent captures.
import { api, cropUrl, token } from './api.js';
import { $, el, fmtTime, note, showJson, toast } from './ui.js';

let persons = [];
const photoUrls = new Map();

function explain(err) {
  if (err.status === 401) return 'The face gallery needs the admin token.';
  if (err.status === 404 && err.code === 'VIGIL_ERR_NOT_FOUND') return 'Face recognition is not enabled on this daemon.';
  return `${err.code}: ${err.message}`;
}

async function photo(photoId) {
  if (photoUrls.has(photoId)) return photoUrls.get(photoId);
  const res = await fetch(`/api/faces/photos/${encodeURIComponent(photoId)}/crop`, { headers: { authorization: `Bearer ${token()}` } });
  if (!res.ok) return null;
  const url = URL.createObjectURL(await res.blob());
  photoUrls.set(photoId, url);
  return url;
}

async function personCard(p) {
  let thumb = null;
  try {
    const detail = await api(`/api/faces/persons/${encodeURIComponent(p.person_id)}`);
    if (detail.photos?.[0]) thumb = await photo(detail.photos[0].photo_id);
  } catch {
    /* a card without a photo */
  }
  return el(
    'article',
    { class: 'card person', 'data-person': p.person_id, 'data-name': p.name },
    thumb ? el('img', { class: 'crop', src: thumb, alt: `photo of ${p.name}` }) : el('div', { class: 'crop none' }, 'no photo'),
    el(
      'div',
      { class: 'meta' },
      el('strong', {}, p.name),
      el('span', { class: 'muted' }, [p.relationship, `${p.photo_count} photo(s)`].filter(Boolean).join(' · ')),
      el('button', { class: 'danger small admin-only', onclick: () => remove(p) }, 'Delete'),
    ),
  );
}

async function remove(p) {
  if (!confirm(`Delete ${p.name} and all their photos?`)) return;
  try {
    await api(`/api/faces/persons/${encodeURIComponent(p.person_id)}`, { method: 'DELETE' });
    toast(`${p.name} deleted`);
    await refresh();
  } catch (err) {
    toast(explain(err), 'error');
  }
}

function captureCard(ev) {
  const d = ev.pipeline_data ?? {};
  const known = d.primary_text === 'KNOWN';
  const select = el('select', { 'aria-label': 'person' }, ...persons.map((p) => el('option', { value: p.person_id }, p.name)));
  if (known && d.person_id) select.value = d.person_id;
  const act = async (kind, personId) => {
    try {
      await api(`/api/faces/${kind}`, { method: 'POST', json: { event_id: d.event_id, person_id: personId } });
      toast(kind === 'confirm' ? 'Capture added to the person\'s photos' : 'Capture rejected: it will not match this person again');
      await refresh();
    } catch (err) {
      toast(explain(err), 'error');
    }
  };
  return el(
    'article',
    { class: `card capture ${known ? 'known' : 'unknown'}`, 'data-event': d.event_id, 'data-status': d.primary_text },
    cropUrl(ev) ? el('img', { class: 'crop', src: cropUrl(ev), alt: 'face capture', onclick: () => showJson(`Event ${d.event_id}`, ev) }) : null,
    el(
      'div',
      { class: 'meta' },
      el('strong', { 'data-role': 'status' }, known ? `KNOWN: ${d.name ?? d.person_id}` : 'UNKNOWN'),
      el('span', { class: 'muted' }, `${ev.stream_id} · ${fmtTime(ev.timestamp)}${known ? ` · ${Math.round((d.similarity ?? 0) * 100)} %` : ''}`),
      persons.length
        ? el(
            'div',
            { class: 'row' },
            select,
            el('button', { class: 'small admin-only', onclick: () => act('confirm', select.value) }, 'Confirm'),
            known ? el('button', { class: 'secondary small admin-only', onclick: () => act('reject', d.person_id) }, `Not ${d.name ?? 'this person'}`) : null,
          )
        : null,
    ),
  );
}

const POLL_MS = 5000;
let timer = null;
let shownCaptures = '';

async function refresh() {
  try {
    ({ persons } = await api('/api/faces/persons'));
  } catch (err) {
    $('#persons').replaceChildren(note(explain(err), 'error'));
    $('#captures').replaceChildren();
    return;
  }
  $('#persons').replaceChildren(...(persons.length ? await Promise.all(persons.map(personCard)) : [note('Nobody enrolled yet: add a person with one or more photos above.')]));
  shownCaptures = '';
  await refreshCaptures();
}

/** Re-renders the captures only when new ones came, so a half-made choice is not wiped by the poll. */
async function refreshCaptures() {
  try {
    const { events } = await api('/api/events?analytic_id=NFV4-FR&limit=20&crops=1');
    const key = `${persons.length}:${events.map((e) => e.seq).join(',')}`;
    if (key === shownCaptures) return;
    shownCaptures = key;
    $('#captures').replaceChildren(...(events.length ? events.map(captureCard) : [note('No face captures yet.')]));
  } catch (err) {
    $('#captures').replaceChildren(note(explain(err), 'error'));
  }
}

$('#enroll-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target;
  const data = new FormData();
  // form.name would be the form's own name attribute: read the fields through form.elements.
  const field = (n) => form.elements.namedItem(n);
  data.set('name', field('name').value.trim());
  data.set('relationship', field('relationship').value.trim());
  for (const f of field('photos').files) data.append('photos', f, f.name);
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    const p = await api('/api/faces/persons', { method: 'POST', body: data });
    toast(`${p.name ?? 'Person'} enrolled`);
    form.reset();
    await refresh();
  } catch (err) {
    toast(`Enrolment failed: ${explain(err)}`, 'error');
  } finally {
    button.disabled = false;
  }
});

export async function show() {
  await refresh();
  clearInterval(timer);
  timer = setInterval(refreshCaptures, POLL_MS);
}

export function hide() {
  clearInterval(timer);
  timer = null;
}
