import type { FrameAnalyzerRegistry } from '../../analytics/frameAnalyzers.js';
import { isVigilError, VigilError } from '../../errors.js';
import { silentLogger, type Logger } from '../../log.js';
import type { ApiRequest, RouteRegistry } from '../routes.js';
import { analyzeFrame } from './frameProcessor.js';
import { ConcurrencyGate, frameLimits, type FrameLimits } from './limits.js';
import { mobiledgexError, mobiledgexReply } from './mobiledgexSocket.js';
import { decodeBase64Frame, FrameProtocolError, REST_CODE } from './protocol.js';

/** Room for multipart boundaries and part headers around the image. */
const MULTIPART_SLACK = 64 * 1024;

/**
 * The REST twins of the frame sockets: `POST /api/analyze/<analytic>` with the image
 * as the body, as multipart/form-data, or as `{"data":"<base64>"}`, replying the JSON a
 * socket would send for that frame (frame_index 0); and the MobiledgeX-style
 * `POST /detector/detect/` (multipart field `image`, or the raw body) replying
 * `{success, server_processing_time, rects}`. Any token may call them. Each has the
 * frame limit of its socket.
 */
export function registerAnalyzeRoutes(
  routes: RouteRegistry,
  analyzers: FrameAnalyzerRegistry,
  partialLimits: Partial<FrameLimits> = {},
  shared: { gate?: ConcurrencyGate; log?: Logger } = {},
): void {
  const limits = frameLimits(partialLimits);
  const gate = shared.gate ?? new ConcurrencyGate(limits.maxConcurrent);
  const log = (shared.log ?? silentLogger()).child({ component: 'analyze-api' });
  const bodyFor = (bytes: number): number => Math.ceil((bytes * 4) / 3) + MULTIPART_SLACK;
  const limitFor = (name: string): number => (name === 'identify' ? limits.identifyMaxFrameBytes : limits.maxFrameBytes);

  routes.route(
    'POST',
    '/api/analyze/:analytic',
    async (req) => {
      const name = req.params.analytic ?? '';
      const analyzer = analyzers.get(name);
      if (!analyzer) {
        throw new VigilError('VIGIL_ERR_ANALYTIC_UNKNOWN', `No frame analytic "${name}"; known: ${[...analyzers.keys()].join(', ')}`);
      }
      const bytes = imageFromRequest(req, limitFor(name));
      const outcome = await analyzeFrame(analyzer, { index: 0, bytes, receivedAt: performance.now() }, gate, log);
      if (!outcome.ok) {
        throw new VigilError(REST_CODE[outcome.error.code], outcome.error.message, { code: outcome.error.code });
      }
      const meta = { frame_index: 0, server_processing_time: outcome.ms, dropped: 0 };
      if (name === 'identify') {
        const r = outcome.result;
        return { json: { type: 'identification', timestamp: new Date().toISOString(), face_detected: r.face_detected === true, match: r.match ?? null, ...meta } };
      }
      return { json: { type: 'result', analytic: name, ...outcome.result, ...meta } };
    },
    { auth: 'token', maxBody: bodyFor(Math.max(limits.maxFrameBytes, limits.identifyMaxFrameBytes)) },
  );

  const faceDetect = analyzers.get('face-detect');
  if (!faceDetect) return;
  routes.route(
    'POST',
    '/detector/detect',
    async (req) => {
      // This protocol answers failures in its own shape, with Vigil's code beside the message.
      let bytes: Buffer;
      try {
        bytes = imageFromRequest(req, limits.mobiledgexMaxFrameBytes);
      } catch (err) {
        if (!isVigilError(err)) throw err;
        return { status: err.code === 'VIGIL_ERR_BODY_TOO_LARGE' ? 413 : 400, json: mobiledgexError(err.code, err.message) };
      }
      const outcome = await analyzeFrame(faceDetect, { index: 0, bytes, receivedAt: performance.now() }, gate, log);
      if (!outcome.ok) {
        const code = REST_CODE[outcome.error.code];
        return { status: code === 'VIGIL_ERR_INVALID_IMAGE' ? 400 : code === 'VIGIL_ERR_INFERENCE_DROPPED' ? 503 : 500, json: mobiledgexError(code, outcome.error.message) };
      }
      return { json: mobiledgexReply(outcome.result, outcome.ms) };
    },
    { auth: 'token', maxBody: bodyFor(limits.mobiledgexMaxFrameBytes) },
  );
}

/** The image bytes of a request: multipart file part, JSON base64, or the raw body. */
export function imageFromRequest(req: Pick<ApiRequest, 'headers' | 'body'>, maxFrameBytes: number): Buffer {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  let bytes: Buffer;
  if (type.startsWith('multipart/form-data')) {
    bytes = multipartImage(req.body, req.headers['content-type'] ?? '');
  } else if (type.startsWith('application/json')) {
    let data: unknown;
    try {
      data = (JSON.parse(req.body.toString('utf8')) as { data?: unknown }).data;
    } catch {
      throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'The JSON body is not valid; send {"data":"<base64 image>"} or the image itself.');
    }
    try {
      bytes = decodeBase64Frame(data, maxFrameBytes);
    } catch (err) {
      if (err instanceof FrameProtocolError && err.code === 'FRAME_TOO_LARGE') throw new VigilError('VIGIL_ERR_BODY_TOO_LARGE', err.message);
      throw new VigilError('VIGIL_ERR_INVALID_IMAGE', (err as Error).message);
    }
  } else {
    bytes = req.body;
  }
  if (bytes.length === 0) throw new VigilError('VIGIL_ERR_INVALID_IMAGE', 'The request carries no image.');
  if (bytes.length > maxFrameBytes) throw new VigilError('VIGIL_ERR_BODY_TOO_LARGE', `The image is ${bytes.length} bytes; the limit is ${maxFrameBytes}.`);
  return bytes;
}

const IMAGE_FIELDS = new Set(['image', 'file', 'frame', 'data', 'photo']);

/** The first file part of a multipart body (or a part named image/file/frame/data/photo). */
function multipartImage(body: Buffer, contentType: string): Buffer {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'The multipart body has no boundary.');
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  let named: Buffer | undefined;
  while (pos >= 0) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break; // closing delimiter
    const headEnd = body.indexOf('\r\n\r\n', start);
    if (headEnd < 0) break;
    const next = body.indexOf(delim, headEnd + 4);
    if (next < 0) break;
    const headers = body.subarray(start, headEnd).toString('utf8');
    // The part's content ends with the CRLF that precedes the next delimiter.
    const content = body.subarray(headEnd + 4, Math.max(headEnd + 4, next - 2));
    const disp = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
    if (/filename\*?=/i.test(disp)) return content;
    const field = /\bname="([^"]*)"/i.exec(disp)?.[1];
    if (!named && field && IMAGE_FIELDS.has(field.toLowerCase())) named = content;
    pos = next;
  }
  if (named) return named;
  throw new VigilError('VIGIL_ERR_BAD_REQUEST', 'The multipart body has no file part (send the image as a file field, e.g. "image").');
}
