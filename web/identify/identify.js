// Example client of Vigil's /ws/identify (DESIGN.md section 6). No framework, no build.
// Protocol: send {"type":"frame","data":"<base64 jpeg>"}; receive {"type":"identification",...};
// answer {"type":"heartbeat"} with {"type":"pong"}; errors come as {"type":"error","code","message"}.

const $ = (id) => document.getElementById(id);
const MAX_SIDE = 640; // downscale before sending: faster, and well under the 500 KB frame limit
const JPEG_QUALITY = 0.8;

let ws = null;
let stream = null;
let timer = null;
let waiting = false; // one frame in flight: never queue frames behind a slow link
let sentAt = 0;

$('url').value = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host || '127.0.0.1:8080'}/ws/identify`;
$('token').value = new URLSearchParams(location.search).get('token') ?? '';

function log(line) {
  const el = $('log');
  el.textContent = `${new Date().toLocaleTimeString()} ${line}\n${el.textContent}`.slice(0, 20000);
}

function connect() {
  if (ws) ws.close();
  const url = new URL($('url').value);
  if ($('token').value) url.searchParams.set('authorization', $('token').value);
  ws = new WebSocket(url);
  $('state').textContent = 'connecting…';
  ws.onopen = () => { $('state').textContent = 'connected'; waiting = false; };
  ws.onclose = (e) => {
    $('state').textContent = `closed (${e.code}${e.reason ? `: ${e.reason}` : ''}); reconnecting in 3 s`;
    ws = null;
    setTimeout(() => { if (!ws) connect(); }, 3000);
  };
  ws.onerror = () => log('socket error (a wrong token is refused before the upgrade: check it)');
  ws.onmessage = (e) => onMessage(JSON.parse(e.data));
}

function onMessage(m) {
  switch (m.type) {
    case 'heartbeat':
      ws.send(JSON.stringify({ type: 'pong' }));
      return;
    case 'identification': {
      waiting = false;
      const r = $('result');
      if (!m.face_detected) { r.className = 'none'; r.textContent = 'No face'; }
      else if (m.match) { r.className = 'known'; r.textContent = `${m.match.name}${m.match.relationship ? ` (${m.match.relationship})` : ''} · ${(m.match.confidence * 100).toFixed(0)}%`; }
      else { r.className = 'unknown'; r.textContent = 'Unknown person'; }
      $('timing').textContent = `round trip ${(performance.now() - sentAt).toFixed(0)} ms, server ${m.server_processing_time} ms${m.dropped ? `, ${m.dropped} dropped` : ''}`;
      return;
    }
    case 'error':
      waiting = false;
      log(`error ${m.code}: ${m.message}`);
      return;
    default:
      log(JSON.stringify(m));
  }
}

/** Draws a video frame or an image onto the canvas, downscaled, and sends it as base64 JPEG. */
async function send(source, width, height) {
  if (!ws || ws.readyState !== WebSocket.OPEN || waiting) return;
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const canvas = $('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  canvas.getContext('2d').drawImage(source, 0, 0, canvas.width, canvas.height);
  // toDataURL gives "data:image/jpeg;base64,...": the server accepts the prefix as is.
  const data = canvas.toDataURL('image/jpeg', JPEG_QUALITY);
  waiting = true;
  sentAt = performance.now();
  ws.send(JSON.stringify({ type: 'frame', data }));
}

async function toggleCamera() {
  if (stream) {
    clearInterval(timer);
    stream.getTracks().forEach((t) => t.stop());
    stream = null;
    $('camera').textContent = 'Start webcam';
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: false });
  } catch (err) {
    log(`camera unavailable: ${err.message} (browsers allow cameras on https or localhost only)`);
    return;
  }
  const video = $('video');
  video.srcObject = stream;
  $('camera').textContent = 'Stop webcam';
  const tick = () => { if (video.videoWidth) void send(video, video.videoWidth, video.videoHeight); };
  const restart = () => { clearInterval(timer); timer = setInterval(tick, 1000 / Number($('fps').value)); };
  $('fps').onchange = restart;
  restart();
}

$('connect').onclick = connect;
$('camera').onclick = toggleCamera;
$('file').onchange = async (e) => {
  const file = e.target.files?.[0];
  if (!file) return;
  const bitmap = await createImageBitmap(file);
  waiting = false; // a chosen photo always goes out
  await send(bitmap, bitmap.width, bitmap.height);
};
