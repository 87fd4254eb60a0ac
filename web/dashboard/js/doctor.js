// The platform check (`vigil doctor` as the daemon sees it) on the Streams page: verdict,
// socket implementation, working providers and each problem with its hint.
import { api } from './api.js';
import { $, el } from './ui.js';

export async function showDoctor() {
  const box = $('#doctor');
  box.replaceChildren(el('p', { class: 'muted' }, 'Checking the platform…'));
  let d;
  try {
    d = await api('/api/doctor');
  } catch (err) {
    box.replaceChildren(el('p', { class: 'error' }, `Platform check failed: ${err.code}: ${err.message}`));
    return;
  }
  box.replaceChildren(
    el('p', { 'data-role': 'doctor-verdict' }, `Platform: ${d.verdict.toUpperCase()} · sockets: ${d.sockets} · providers: ${d.providers.join(', ')}`),
    ...d.problems.map((p) => el('p', { class: p.level === 'fail' ? 'error small' : 'muted small' }, `${p.what}${p.hint ? ` → ${p.hint}` : ''}`)),
    el('p', { class: 'muted small' }, 'Full report: vigil doctor --json (or GET /api/doctor?full=1)'),
  );
}

document.getElementById('doctor-run')?.addEventListener('click', (e) => {
  e.preventDefault();
  void showDoctor();
});
