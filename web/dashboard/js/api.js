// Talks to the daemon: the token lives in sessionStorage (gone when the tab closes) and
// goes out as `Authorization: Bearer` on fetches and `authorization=` on the event socket.

const KEY = 'vigil.token';

/** The token of this tab, or null before login. */
export function token() {
  return sessionStorage.getItem(KEY);
}

export function setToken(t) {
  if (t) sessionStorage.setItem(KEY, t);
  else sessionStorage.removeItem(KEY);
}

/** An API error as the daemon states it: `{error:{code,message}}`. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const listeners = new Set();
/** Called with every 401, so the app can send the user back to the login. */
export function onUnauthorized(fn) {
  listeners.add(fn);
}

/** fetch() with the token; JSON in and out; throws ApiError with the daemon's code and sentence. */
export async function api(path, { method = 'GET', json, body, headers = {}, raw = false, auth } = {}) {
  const h = { ...headers };
  const t = auth ?? token();
  if (t) h.authorization = `Bearer ${t}`;
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  let res;
  try {
    res = await fetch(path, { method, headers: h, body });
  } catch (err) {
    throw new ApiError(0, 'VIGIL_ERR_DAEMON_DOWN', `The daemon cannot be reached (${err.message}).`);
  }
  if (res.status === 401 && auth === undefined) {
    // A viewer token is refused by admin routes but still valid: sign out only when the status route refuses it too.
    if (path.startsWith('/api/status')) for (const fn of listeners) fn();
    else void api('/api/status').catch(() => {});
  }
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let message = res.statusText;
    try {
      const e = (await res.json()).error;
      if (e) ({ code, message } = e);
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, code, message);
  }
  if (raw) return res;
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

/** Opens the event socket with filters; `on(msg)` gets events and control messages. Reconnects from the last seq. */
export function openEvents({ streamIds = [], analyticIds = [], since, crops = true }, on, onState = () => {}) {
  let ws = null;
  let closed = false;
  let lastSeq = since;
  let retry = 1000;
  const connect = () => {
    const q = new URLSearchParams({ authorization: token() ?? '' });
    if (streamIds.length) q.set('stream_id', streamIds.join(','));
    if (analyticIds.length) q.set('analytic_id', analyticIds.join(','));
    if (lastSeq !== undefined) q.set('since', String(lastSeq));
    if (!crops) q.set('crops', '0');
    ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/event_channel?${q}`);
    ws.onopen = () => {
      retry = 1000;
      onState('live');
    };
    ws.onmessage = (m) => {
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        return;
      }
      if (typeof msg.seq === 'number' && msg.analytic_id) lastSeq = msg.seq;
      on(msg);
    };
    ws.onclose = () => {
      if (closed) return;
      onState('reconnecting');
      setTimeout(() => !closed && connect(), retry);
      retry = Math.min(retry * 2, 15000);
    };
  };
  connect();
  return {
    close() {
      closed = true;
      ws?.close();
    },
  };
}

export const ANALYTICS = {
  'NFV4-FR': 'Face recognition',
  'NFV4-LPR': 'Plates',
  'NFV4-PC': 'People counting',
  'NFV4-VC': 'Vehicle counting',
  'NFV4-CE': 'Crowd estimation',
};

/** The crop of an event as a data: URL (NFV4-LPR keeps it under `jpeg`), or null. */
export function cropUrl(ev) {
  const b64 = ev.image_jpeg ?? ev.jpeg;
  return b64 ? `data:image/jpeg;base64,${b64}` : null;
}
