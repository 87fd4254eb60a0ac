// Example client of the MobiledgeX-style face-detection socket (/ws/detector/detect/),
// after that protocol's own test clients: each image goes out as one binary message and
// comes back as {"success","server_processing_time","rects"}; a text message is echoed.
//
//   node examples/mobiledgex-client.mjs "ws://HOST:PORT/ws/detector/detect/?authorization=TOKEN" face.jpg [more.jpg ...]
//
// Prints every reply as one line; ends once each image and the closing text have their answer.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

const [url, ...files] = process.argv.slice(2);
if (!url || files.length === 0) {
  console.error('usage: node mobiledgex-client.mjs <ws url> <image> [image ...]');
  process.exit(2);
}
const expected = files.length + 1;
let received = 0;

const ws = new WebSocket(url);
ws.on('open', () => {
  for (const f of files) ws.send(readFileSync(f), { binary: true });
  ws.send('{"type":"qotd","qotd":"echo me"}');
});
ws.on('message', (data) => {
  console.log(data.toString());
  if (++received >= expected) ws.close();
});
ws.on('close', (code) => console.log(JSON.stringify({ closed: code })));
ws.on('error', (err) => {
  console.error(`socket error: ${err.message}`);
  process.exitCode = 1;
});
