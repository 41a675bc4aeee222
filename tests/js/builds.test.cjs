// The SIMD and the relaxed-SIMD wasm builds agree with the scalar one:
// identical quantized bytes and dequantized weights (the relaxed build packs
// its weights another way, and gives the same GGUF bytes back); W4A8
// (integer dot products, one float epilogue per block, summed in the same
// order) bit for bit; W4A32 (f32 sums in another order) within f32 rounding.
const ref = require('./reference.cjs');
const { enableRelaxedSimd, expectThrown, loadNibble } = require('./load.cjs');

let simd, relaxed, scalar, auto, disableRelaxed;
beforeAll(async () => {
  simd = await loadNibble(true);
  scalar = await loadNibble(false);
  auto = await loadNibble('auto');
  disableRelaxed = enableRelaxedSimd();
  relaxed = await loadNibble('auto');
});
afterAll(() => disableRelaxed());

test('the loader picked the build asked for', () => {
  expect(simd.info).toMatchObject({ simd: true, flavour: 'simd', wasmUrl: expect.stringMatching(/nibble-simd\.wasm$/) });
  expect(scalar.info).toMatchObject({ simd: false, flavour: 'scalar', wasmUrl: expect.stringMatching(/nibble-scalar\.wasm$/) });
  expect(simd.nibble.simdSupported()).toBe(true); // Node 20 has WebAssembly SIMD
  // Relaxed SIMD only behind --experimental-wasm-relaxed-simd in Node 20.
  expect(auto.info.flavour).toBe('simd');
  expect(auto.nibble.relaxedSimdSupported()).toBe(false);
  expect(relaxed.info).toMatchObject({ simd: true, flavour: 'simd-relaxed', wasmUrl: expect.stringMatching(/nibble-simd-relaxed\.wasm$/) });
  expect(relaxed.nibble.relaxedSimdSupported()).toBe(true);
});

test("simd: 'relaxed' where the engine has no relaxed SIMD -> a clear Error", async () => {
  disableRelaxed();
  try {
    await expectThrown(() => loadNibble('relaxed'), Error, /no relaxed WebAssembly SIMD \(Node 20 needs --experimental-wasm-relaxed-simd\)/);
  } finally {
    disableRelaxed = enableRelaxedSimd();
  }
});

describe.each([['simd', () => simd], ['simd-relaxed', () => relaxed]])('%s vs scalar', (_, fast) => describe.each(['q4_0', 'q4_1'])('%s', (type) => {
  test.each([['none'], ['mse']])('clip %s: same bytes, dequantized weights and matmul in both builds', async (clip) => {
    const vector = fast();
    const shapes = [[1, 32], [4, 64], [7, 288], [33, 512]];
    for (const [rows, cols] of shapes) {
      const w = ref.randomFloats(rows * cols, rows + cols, 1.5);
      const a = await vector.nibble.quantize(w, [rows, cols], { type, clip });
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
}));
