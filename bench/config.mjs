// The benchmark's shapes, in one place: W is N×K (K = input features),
// M = rows of activations (1 = one token, GEMV; 64 = a prompt chunk, GEMM).
export const SHAPES = [
  { K: 2048, N: 2048 },
  { K: 2048, N: 5632 },
  { K: 5632, N: 2048 },
  { K: 4096, N: 4096 },
];
export const M_VALUES = [1, 64];

// "2048x2048,4096x4096" for the nibble_bench command line (K x N).
export function shapesArg(shapes) {
  return shapes.map(({ K, N }) => `${K}x${N}`).join(',');
}
