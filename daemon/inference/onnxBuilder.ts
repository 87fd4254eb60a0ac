/**
 * A tiny ONNX protobuf writer: enough to build small float graphs (tests, synthetic
 * models) without the python onnx package. Field numbers are from onnx.proto3.
 */

type Bytes = number[];

function varint(n: number | bigint, out: Bytes): void {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
}
function key(field: number, wire: number, out: Bytes): void {
  varint((field << 3) | wire, out);
}
function int(field: number, n: number, out: Bytes): void {
  key(field, 0, out);
  varint(n, out);
}
function bytes(field: number, b: Bytes | Uint8Array, out: Bytes): void {
  key(field, 2, out);
  varint(b.length, out);
  for (const x of b) out.push(x);
}
function str(field: number, s: string, out: Bytes): void {
  bytes(field, [...Buffer.from(s, 'utf8')], out);
}
function msg(field: number, build: (o: Bytes) => void, out: Bytes): void {
  const inner: Bytes = [];
  build(inner);
  bytes(field, inner, out);
}

/** A graph input/output: name and dims (a string is a symbolic dim). Float32 only. */
export interface ValueInfo {
  name: string;
  dims: (number | string)[];
}

/** A node: op type, inputs, outputs, and int / int-list attributes. */
export interface NodeDef {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, number | number[]>;
}

/** A float32 constant (initializer). */
export interface Initializer {
  name: string;
  dims: number[];
  values: number[];
}

function valueInfo(field: number, v: ValueInfo, out: Bytes): void {
  msg(field, (o) => {
    str(1, v.name, o);
    msg(2, (t) => msg(1, (tt) => {
      int(1, 1, tt); // elem_type FLOAT
      msg(2, (shape) => {
        for (const d of v.dims) msg(1, (dim) => (typeof d === 'number' ? int(1, d, dim) : str(2, d, dim)), shape);
      }, tt);
    }, t), o);
  }, out);
}

/** Serialises a one-graph ModelProto (IR 8, default opset `opset`). */
export function buildOnnxModel(g: { inputs: ValueInfo[]; outputs: ValueInfo[]; nodes: NodeDef[]; initializers?: Initializer[]; opset?: number }): Uint8Array {
  const out: Bytes = [];
  int(1, 8, out); // ir_version
  str(2, 'vigil', out); // producer_name
  msg(7, (graph) => {
    g.nodes.forEach((n, i) => msg(1, (node) => {
      for (const x of n.inputs) str(1, x, node);
      for (const x of n.outputs) str(2, x, node);
      str(3, `n${i}`, node);
      str(4, n.op, node);
      for (const [name, v] of Object.entries(n.attrs ?? {})) {
        msg(5, (a) => {
          str(1, name, a);
          if (Array.isArray(v)) { for (const x of v) int(8, x, a); int(20, 7, a); } // INTS
          else { int(3, v, a); int(20, 2, a); } // INT
        }, node);
      }
    }, graph));
    str(2, 'g', graph);
    for (const t of g.initializers ?? []) {
      msg(5, (tp) => {
        for (const d of t.dims) int(1, d, tp);
        int(2, 1, tp); // FLOAT
        str(8, t.name, tp);
        bytes(9, new Uint8Array(new Float32Array(t.values).buffer), tp); // raw_data
      }, graph);
    }
    for (const v of g.inputs) valueInfo(11, v, graph);
    for (const v of g.outputs) valueInfo(12, v, graph);
  }, out);
  msg(8, (op) => { str(1, '', op); int(2, g.opset ?? 13, op); }, out);
  return Uint8Array.from(out);
}
