// The SIMD and the scalar wasm builds agree: identical quantized bytes and
// dequantized weights; W4A8 (integer dot products, one float epilogue per
// block, summed in the same order) bit for bit; W4A32 (f32 sums in another
// order) within f32 rounding of each other.
const ref = require('./reference.cjs');
const { loadNibble } = require('./load.cjs');

let simd, scalar;
beforeAll(async () => {
  simd = await loadNibble(true);
  scalar = await loadNibble(false);
});

test('the loader picked the build asked for', () => {
  expect(simd.info.simd).toBe(true);
  expect(simd.info.wasmUrl).toMatch(/nibble-simd\.wasm$/);
  expect(scalar.info.simd).toBe(false);
  expect(scalar.info.wasmUrl).toMatch(/nibble-scalar\.wasm$/);
  expect(simd.nibble.simdSupported()).toBe(true); // Node 20 has WebAssembly SIMD
});

describe.each(['q4_0', 'q4_1'])('%s', (type) => {
  test.each([['none'], ['mse']])('clip %s: same bytes, dequantized weights and matmul in both builds', async (clip) => {
    const shapes = [[1, 32], [4, 64], [7, 288], [33, 512]];
    for (const [rows, cols] of shapes) {
      const w = ref.randomFloats(rows * cols, rows + cols, 1.5);
      const a = await simd.nibble.quantize(w, [rows, cols], { type, clip });
      const b = await scalar.nibble.quantize(w, [rows, cols], { type, clip });
      const shape = `[${rows}, ${cols}]`;
      expect({ shape, bytes: Array.from(a.toBytes()) }).toEqual({ shape, bytes: Array.from(b.toBytes()) });
      expect({ shape, w: Array.from(a.dequantize()) }).toEqual({ shape, w: Array.from(b.dequantize()) });
      for (const m of [1, 3, 8]) {
        const x = ref.randomFloats(m * cols, m * 7 + cols, 4);
        const ya8 = a.matmul(x, m, { precision: 'w4a8' }), yb8 = b.matmul(x, m, { precision: 'w4a8' });
        const bad8 = ya8.findIndex((v, i) => !Object.is(v, yb8[i]));
        if (bad8 >= 0) throw new Error(`w4a8 ${shape} m=${m}: y[${bad8}] simd ${ya8[bad8]} vs scalar ${yb8[bad8]}`);
        const ya32 = a.matmul(x, m, { precision: 'w4a32' }), yb32 = b.matmul(x, m, { precision: 'w4a32' });
        const want = ref.matmul(a.toBytes(), rows, cols, type, x, m, 'w4a32');
        const bad32 = ref.firstMismatch(ya32, yb32, want.scale, 2e-6, 1e-7);
        if (bad32 >= 0) {
          throw new Error(`w4a32 ${shape} m=${m}: y[${bad32}] simd ${ya32[bad32]} vs scalar ${yb32[bad32]} (reference ${want.y[bad32]})`);
        }
      }
      a.dispose();
      b.dispose();
    }
  });
});
