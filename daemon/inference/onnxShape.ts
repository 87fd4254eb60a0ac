import { readFileSync } from 'node:fs';

/**
 * Frees an ONNX model's input height and width, so a fully convolutional detector can be fed
 * the image's own aspect (416x288 for a 16:9 camera) instead of a square that is 44 % padding.
 * Only the declared shapes change: the input's H and W and the outputs' inner dimensions become
 * symbolic, and the intermediate shapes the exporter recorded (value_info) are dropped so
 * ORT infers them again. The graph itself must already be shape-agnostic (YOLOX's is: Slice to
 * INT64_MAX, Resize by scales, Reshape to [1,85,-1]); the session worker tries the freed model at
 * another size and loads the file as it is when that fails.
 * Field numbers are from onnx.proto3.
 */

/** One field: its byte range, and its payload (length-delimited) or value (varint). */
interface Field { field: number; wire: number; start: number; end: number; body?: Uint8Array; value?: number }

/** The top-level fields of one protobuf message, with their byte ranges. */
function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): number => {
    let r = 0, mul = 1, b: number;
    do {
      if (i >= buf.length) throw new Error('truncated protobuf');
      b = buf[i++]!;
      r += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    return r;
  };
  while (i < buf.length) {
    const start = i;
    const key = varint();
    const field = Math.floor(key / 8), wire = key & 7;
    if (wire === 0) {
      const value = varint();
      out.push({ field, wire, start, end: i, value });
      continue;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const n = varint();
      if (i + n > buf.length) throw new Error('truncated protobuf');
      out.push({ field, wire, start, end: i + n, body: buf.subarray(i, i + n) });
      i += n;
      continue;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    out.push({ field, wire, start, end: i });
  }
  return out;
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** A length-delimited field. */
function lenField(field: number, body: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from([...varintBytes(field * 8 + 2), ...varintBytes(body.length)]), body]);
}

/** Rebuilds a message: `edit` returns a field's new bytes (whole field), null to drop it, undefined to keep it. */
function rewrite(buf: Uint8Array, edit: (f: Field) => Uint8Array | null | undefined): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of fields(buf)) {
    const e = edit(f);
    if (e === null) continue;
    parts.push(e ?? buf.subarray(f.start, f.end));
  }
  return Buffer.concat(parts);
}

const text = (b: Uint8Array | undefined): string => (b ? Buffer.from(b).toString('utf8') : '');

/** ValueInfoProto with the dims at `free` made symbolic (dim_param `d<i>`); other dims kept. `free` sees each dim's fixed value (undefined when symbolic). */
function freeDims(valueInfo: Uint8Array, free: (i: number, rank: number, value: number | undefined) => boolean): Uint8Array {
  // ValueInfoProto.type(2) → TypeProto.tensor_type(1) → TypeProto.Tensor.shape(2) → TensorShapeProto.dim(1).
  return rewrite(valueInfo, (f) => {
    if (f.field !== 2 || !f.body) return undefined;
    return lenField(2, rewrite(f.body, (t) => {
      if (t.field !== 1 || !t.body) return undefined;
      return lenField(1, rewrite(t.body, (s) => {
        if (s.field !== 2 || !s.body) return undefined;
        const rank = fields(s.body).filter((d) => d.field === 1).length;
        let i = 0;
        return lenField(2, rewrite(s.body, (d) => {
          if (d.field !== 1 || !d.body) return undefined;
          const at = i++;
          // Dimension.dim_value (1, a varint) when fixed.
          const value = fields(d.body).find((x) => x.field === 1 && x.wire === 0)?.value;
          return free(at, rank, value) ? lenField(1, lenField(2, Buffer.from(`d${at}`))) : undefined;
        }));
      }));
    }));
  });
}

/**
 * The model with input `inputName`'s height and width symbolic (`layout` says where they are)
 * and every output dimension between the first (batch) and the last made symbolic. With
 * `expect`, a file whose fixed size is another is refused (it is not the model the manifest describes).
 */
export function freeInputSize(model: Uint8Array, inputName: string, layout: 'NCHW' | 'NHWC', expect?: { width: number; height: number }): Uint8Array {
  const [h, w] = layout === 'NCHW' ? [2, 3] : [1, 2];
  const want = (i: number): number | undefined => (expect ? (i === h ? expect.height : expect.width) : undefined);
  let found = false;
  const out = rewrite(model, (f) => {
    if (f.field !== 7 || !f.body) return undefined; // ModelProto.graph
    return lenField(7, rewrite(f.body, (g) => {
      if (g.field === 13) return null; // GraphProto.value_info: recorded for the exported size only
      if ((g.field !== 11 && g.field !== 12) || !g.body) return undefined;
      if (g.field === 11) {
        if (text(fields(g.body).find((x) => x.field === 1)?.body) !== inputName) return undefined;
        found = true;
        return lenField(11, freeDims(g.body, (i, _rank, value) => {
          if (i !== h && i !== w) return false;
          if (value !== undefined && want(i) !== undefined && value !== want(i)) throw new Error(`input ${inputName} is fixed at ${value} where ${want(i)} is expected`);
          return true;
        }));
      }
      return lenField(12, freeDims(g.body, (i, rank) => i > 0 && i < rank - 1));
    }));
  });
  if (!found) throw new Error(`the model has no input named ${inputName}`);
  return out;
}

/**
 * What ORT should load for `spec` to see what the daemon feeds: the file with its input size
 * freed for a `rectMultiple` model (benches and `vigil models bench` measure the same graph), else the path.
 */
export function modelSource(file: string, spec: { input: { name: string; layout: 'NCHW' | 'NHWC'; width: number; height: number; rectMultiple?: number } }, rect = true): string | Uint8Array {
  if (!rect || !spec.input.rectMultiple) return file;
  return freeInputSize(readFileSync(file), spec.input.name, spec.input.layout, spec.input);
}
