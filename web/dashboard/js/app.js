// Entry: sign-in, page switching (#feed, #health, ...), the shared event socket.
import { api, ApiError, onUnauthorized, openEvents, setToken, token } from './api.js';
import { $ } from './ui.js';
import * as feed from './feed.js';
import * as health from './health.js';
import * as counts from './counts.js';
import * as crowd from './crowd.js';
import * as faces from './faces.js';
import * as plates from './plates.js';
import * as history from './history.js';
import * as live from './live.js';
import * as geometry from './geometry.js';

const PAGES = { feed, live, history, health, counts, crowd, faces, plates };
let current = null;
let socket = null;

async function signIn(t) {
  // The status route takes any valid token: a cheap way to check it before showing anything.
  await api('/api/status', { auth: t });
  setToken(t);
  // The role only decides what is shown: every admin route checks the token itself.
  const { role } = await api('/api/session').catch(() => ({ role: 'viewer' }));
  document.body.dataset.role = role;
}

function showLogin(message) {
  socket?.close();
  socket = null;
  current?.hide?.();
  current = null;
  for (const p of document.querySelectorAll('.page')) p.hidden = true;
  $('#nav').hidden = $('#logout').hidden = $('#conn').hidden = true;
  $('#login').hidden = false;
  const err = $('#login-error');
  err.hidden = !message;
  err.textContent = message ?? '';
  $('#token').focus();
}

function startApp() {
  $('#login').hidden = true;
  $('#nav').hidden = $('#logout').hidden = $('#conn').hidden = false;
  socket = openEvents({ since: undefined }, (msg) => {
    if (msg.analytic_id) feed.onEvent(msg);
    else if (msg.type === 'status') health.onStatus(msg);
    else if (msg.type === 'gap') feed.onGap(msg);
  }, (state) => {
    $('#conn').textContent = state;
    $('#conn').className = `conn ${state}`;
  });
  route();
}

function route() {
  if (!token()) return;
  const name = location.hash.replace(/^#/, '') || 'feed';
  const page = PAGES[name] ?? feed;
  const id = PAGES[name] ? name : 'feed';
  if (current !== page) current?.hide?.();
  for (const p of document.querySelectorAll('.page')) p.hidden = p.id !== `page-${id}`;
  for (const a of document.querySelectorAll('#nav a')) a.toggleAttribute('aria-current', a.dataset.page === id);
  current = page;
  void page.show();
}

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const t = $('#token').value.trim();
  try {
    await signIn(t);
    $('#token').value = '';
    startApp();
  } catch (err) {
    const refused = err instanceof ApiError && err.status === 401;
    showLogin(
      refused
        ? 'Wrong token: the daemon refused it. Use server.admin_token (or the admin-token file in the data directory) or one of server.tokens.'
        : `Cannot sign in: ${err.message}`,
    );
  }
});

$('#logout').addEventListener('click', () => {
  setToken(null);
  delete document.body.dataset.role;
  showLogin();
});

onUnauthorized(() => {
  if (!token()) return;
  setToken(null);
  showLogin('Your token is no longer accepted by the daemon; sign in again.');
});

addEventListener('hashchange', route);

feed.init();
history.init();
geometry.init();
health.init();
if (token()) {
  signIn(token()).then(startApp, (err) => showLogin(err instanceof ApiError && err.status === 401 ? 'Your saved token was refused; sign in again.' : `Cannot reach the daemon: ${err.message}`));
} else {
  showLogin();
}
