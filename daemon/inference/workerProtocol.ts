/** Messages between the engine and a session worker (structured-clone friendly). */

/** A tensor on the wire: its data buffer is transferred, not copied. */
export interface WireTensor {
  type: string;
  dims: number[];
  data: Float32Array | Uint8Array | Int32Array | BigInt64Array | Float64Array | Int8Array | Uint16Array | Int16Array | Uint32Array | BigUint64Array | string[] | Uint8ClampedArray;
}

export interface ValueMeta {
  name: string;
  type: string;
  /** Numbers for fixed dims, names for symbolic (dynamic) ones. */
  shape: (number | string)[];
}

export interface WorkerInit {
  kind: 'init';
  modelPath: string;
  providers: string[];
  /** Providers already known to be unavailable on this machine (skipped silently). */
  unavailable: string[];
  /** spinning false sets session.intra_op.allow_spinning = "0" (sessions sharing cores). */
  threads: { intraOp: number; interOp: number; spinning?: boolean };
  ortModulePath?: string;
  /** Load the model with this input's height and width freed (onnxShape.freeInputSize); the file as it is when that fails. */
  freeInput?: { name: string; layout: 'NCHW' | 'NHWC'; width: number; height: number; multiple: number };
}

export type WorkerRequest =
  | WorkerInit
  | {
      kind: 'run'; id: number; feeds: Record<string, WireTensor>;
      /** Output buffers of earlier results the caller is done with: ORT writes the next outputs into them. */
      spare?: ArrayBuffer[];
    }
  | { kind: 'close' };

export type WorkerReply =
  | { kind: 'ready'; provider: string; skipped: { provider: string; reason: string }[]; inputs: ValueMeta[]; outputs: ValueMeta[] }
  | { kind: 'init-error'; code: 'VIGIL_ERR_MODEL_LOAD'; message: string; skipped?: { provider: string; reason: string }[] }
  | { kind: 'result'; id: number; outputs: Record<string, WireTensor>; ms: number; /** The input buffers, handed back for reuse. */ inputs: ArrayBuffer[] }
  | { kind: 'run-error'; id: number; message: string }
  | { kind: 'closed' };
