import { VigilError } from '../errors.js';
import type { ModelSpec } from './types.js';
import type { ValueMeta } from './workerProtocol.js';

/**
 * Checks a loaded session against its manifest entry and family, so a wrong
 * file fails at load with VIGIL_ERR_MODEL_SHAPE instead of decoding garbage.
 * Returns whether the batch dimension is dynamic.
 */
export function checkModelShape(spec: ModelSpec, inputs: ValueMeta[], outputs: ValueMeta[]): { dynamicBatch: boolean } {
  const fail = (why: string): never => {
    throw new VigilError('VIGIL_ERR_MODEL_SHAPE', `Model ${spec.name} (family ${spec.family}) does not fit its manifest: ${why}`, {
      inputs, outputs,
    });
  };
  const inp = inputs.find((i) => i.name === spec.input.name) ?? fail(`no input "${spec.input.name}" (has ${inputs.map((i) => i.name).join(', ')})`);
  const s = inp.shape;
  if (s.length !== 4) fail(`input ${inp.name} has shape [${s.join(',')}], expected 4 dimensions`);
  const [hIdx, wIdx, cIdx] = spec.input.layout === 'NCHW' ? [2, 3, 1] : [1, 2, 3];
  if (typeof s[cIdx] === 'number' && s[cIdx] !== 3) fail(`input ${inp.name} [${s.join(',')}] has ${s[cIdx]} channels at the ${spec.input.layout} channel position, expected 3`);
  const h = s[hIdx], w = s[wIdx];
  if ((typeof h === 'number' && h !== spec.input.height) || (typeof w === 'number' && w !== spec.input.width)) {
    fail(`input ${inp.name} is [${s.join(',')}] but the manifest feeds ${spec.input.width}x${spec.input.height} (${spec.input.layout})`);
  }
  if (inp.type !== spec.input.dtype) fail(`input ${inp.name} is ${inp.type}, the manifest says ${spec.input.dtype}`);
  const names = new Set(outputs.map((o) => o.name));
  for (const o of spec.outputs ?? []) if (!names.has(o)) fail(`no output "${o}" (has ${[...names].join(', ')})`);
  const out0 = outputs.find((o) => o.name === spec.outputs?.[0]) ?? outputs[0];
  if (spec.family === 'yolox' && out0) {
    const last = out0.shape[2];
    const want = spec.labels ? spec.labels.length + 5 : undefined;
    if (out0.shape.length !== 3 || (typeof last === 'number' && want !== undefined && last !== want)) {
      fail(`YOLOX output ${out0.name} is [${out0.shape.join(',')}], expected [1,N,${want ?? '5+classes'}]`);
    }
  }
  if (spec.family === 'nanodet') {
    for (const st of [8, 16, 32]) if (!names.has(`cls_pred_stride_${st}`) || !names.has(`dis_pred_stride_${st}`)) fail(`NanoDet needs cls/dis_pred_stride_${st} outputs`);
  }
  if (spec.family === 'density' && out0 && out0.shape.length !== 4) fail(`density output ${out0.name} is [${out0.shape.join(',')}], expected [1,1,h,w]`);
  return { dynamicBatch: typeof s[0] === 'string' || s[0] === -1 };
}
