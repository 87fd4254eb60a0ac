// Plate search: stored NFV4-LPR events whose plate matches a pattern (`*` wildcard).
import { api } from './api.js';
import { $, note, toast } from './ui.js';
import { eventCard } from './feed.js';

$('#plate-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const q = $('#plate-q').value.trim();
  if (!q) return;
  try {
    const { events } = await api(`/api/events?${new URLSearchParams({ analytic_id: 'NFV4-LPR', plate: q, limit: '100', crops: '1' })}`);
    $('#plates').replaceChildren(...(events.length ? events.map(eventCard) : [note(`No plate matches "${q}".`)]));
  } catch (err) {
    toast(`${err.code}: ${err.message}`, 'error');
  }
});

export async function show() {
  $('#plate-q').focus();
}
