// Small DOM helpers. Everything from the daemon goes in as text, never as HTML.

/** Creates an element: attributes (on* as listeners, dataset via data-*), then children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

export function $(sel, root = document) {
  return root.querySelector(sel);
}

/** "14:03:07" today, else "2024-05-01 14:03". */
export function fmtTime(ms) {
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return '';
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour12: false }) : `${d.toISOString().slice(0, 10)} ${d.toTimeString().slice(0, 5)}`;
}

/** "42 s ago", "3 min ago". */
export function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** A bar chart (SVG) of `values`, scaled to the largest; `labels` become hover titles. */
export function barChart(values, { width = 240, height = 48, labels = [], title = '' } = {}) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  const max = Math.max(1, ...values);
  const w = width / Math.max(1, values.length);
  // A baseline, so an all-zero chart still reads as a chart.
  const axis = document.createElementNS(ns, 'line');
  for (const [k, v] of [['x1', 0], ['x2', width], ['y1', height - 0.5], ['y2', height - 0.5]]) axis.setAttribute(k, String(v));
  axis.setAttribute('class', 'axis');
  svg.append(axis);
  values.forEach((v, i) => {
    const h = v > 0 ? Math.max(1.5, (v / max) * (height - 2)) : 0;
    const r = document.createElementNS(ns, 'rect');
    r.setAttribute('x', String(i * w + 0.5));
    r.setAttribute('y', String(height - h));
    r.setAttribute('width', String(Math.max(1, w - 1)));
    r.setAttribute('height', String(h));
    const t = document.createElementNS(ns, 'title');
    t.textContent = `${labels[i] ?? ''} ${v}`.trim();
    r.append(t);
    svg.append(r);
  });
  return svg;
}

/** A line chart (SVG polyline) of `values`. */
export function lineChart(values, { width = 240, height = 48, title = '' } = {}) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  if (values.length) {
    const max = Math.max(1e-9, ...values);
    const step = values.length > 1 ? width / (values.length - 1) : 0;
    const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`);
    const p = document.createElementNS(ns, 'polyline');
    p.setAttribute('points', pts.join(' '));
    svg.append(p);
  }
  return svg;
}

/** Shows a dismissable message at the top of the page. */
export function toast(message, kind = 'info') {
  const box = el('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, message);
  $('#toasts').append(box);
  setTimeout(() => box.remove(), kind === 'error' ? 8000 : 4000);
}

/**
 * The modal dialog with a title, an optional laid-out view above, and a pretty-printed JSON
 * body (long base64 shortened for reading; Copy gives it whole).
 */
export function showJson(title, value, view = null) {
  const dlg = $('#json-dialog');
  $('#json-title').textContent = title;
  $('#json-view').replaceChildren(...(view ? [view] : []));
  const shown = JSON.stringify(value, (k, v) => (typeof v === 'string' && v.length > 200 && (k === 'image_jpeg' || k === 'jpeg') ? `${v.slice(0, 60)}… (${v.length} chars base64)` : v), 2);
  $('#json-body').textContent = shown;
  $('#json-copy').onclick = () => navigator.clipboard?.writeText(JSON.stringify(value, null, 2)).then(() => toast('Copied'), () => toast('Copy needs https or localhost', 'error'));
  dlg.showModal();
}

/** A message line in a panel (empty state or error). */
export function note(text, kind = 'muted') {
  return el('p', { class: `note ${kind}` }, text);
}
