import { buildOnnxModel } from '../inference/onnxBuilder.js';

/**
 * A stand-in crowd density model for tests (no real one exists): channel mean, 8x8 average
 * pool, x0.25. On a 0-1 input a white 16x16 square covers 4 map cells of 1 each: one "person".
 */
export function squareCounterModel(): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'image', dims: [1, 3, 256, 256] }],
    outputs: [{ name: 'density', dims: [1, 1, 32, 32] }],
    initializers: [{ name: 'k', dims: [], values: [0.25] }],
    nodes: [
      { op: 'ReduceMean', inputs: ['image'], outputs: ['grey'], attrs: { axes: [1], keepdims: 1 } },
      { op: 'AveragePool', inputs: ['grey'], outputs: ['pooled'], attrs: { kernel_shape: [8, 8], strides: [8, 8] } },
      { op: 'Mul', inputs: ['pooled', 'k'], outputs: ['density'] },
    ],
  });
}
