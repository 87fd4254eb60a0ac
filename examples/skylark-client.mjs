// Example client of the Skylark-style frame socket (/ws/<analytic>), written the way that
// protocol's documents show it: connect with the token in the URL, set the batch size,
// then for each frame a start_frame message with its size followed by the bytes.
//
//   node examples/skylark-client.mjs "ws://HOST:PORT/ws/face-detect?authorization=TOKEN" photo.jpg [more.jpg ...]
//
// Every message from the server is printed as one JSON line; the client ends when each
// frame has its reply or when the server closes the connection (a failure does that).
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const [url, ...files] = process.argv.slice(2);
if (!url || files.length === 0) {
  console.error('usage: node skylark-client.mjs <ws url with ?authorization=TOKEN> <image> [image ...]');
  process.exit(2);
}
const batchSize = Number(process.env.BATCH_SIZE ?? 1);
const frames = files.map((f) => readFileSync(f));
let replies = 0;

const socket = new WebSocket(url);
socket.on('open', () => {
  socket.send(JSON.stringify({ action: 'set_batch_size', batch_size: batchSize }));
  frames.forEach((bytes, syncId) => {
    socket.send(JSON.stringify({ action: 'start_frame', fileSize: bytes.length, syncId }));
    socket.send(bytes);
  });
});
socket.on('message', (data) => {
  const msg = JSON.parse(data.toString());
  console.log(JSON.stringify(msg));
  // A batch arrives as a list; a status message is no frame's reply.
  const items = Array.isArray(msg) ? msg : [msg];
  replies += items.filter((m) => m.type === 'result' || m.type === 'error').length;
  if (replies >= frames.length) socket.close(1000, 'done');
});
socket.on('close', (code, reason) => {
  console.log(JSON.stringify({ closed: code, reason: reason.toString() }));
});
socket.on('error', (err) => {
  console.error(`socket error: ${err.message}`);
  process.exitCode = 1;
});
