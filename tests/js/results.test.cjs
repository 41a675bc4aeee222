// quantize / dequantize / toBytes / matmul give what the plain-JS definitions
// in reference.cjs give, in each wasm build.
const ref = require('./reference.cjs');
const { enableRelaxedSimd, loadNibble } = require('./load.cjs');

const SHAPES = [[1, 32], [3, 64], [5, 96], [8, 256], [13, 160]];
const TYPES = ['q4_0', 'q4_1'];

describe.each([['simd', true], ['simd-relaxed', 'relaxed'], ['scalar', false]])('%s build', (flavour, simd) => {
  let nibble;
  let disableRelaxed = () => {};
  beforeAll(async () => {
    if (simd === 'relaxed') disableRelaxed = enableRelaxedSimd();
    const loaded = await loadNibble(simd);
    nibble = loaded.nibble;
    expect(loaded.info.flavour).toBe(flavour);
  });
  afterAll(() => disableRelaxed());

  describe.each(TYPES)('%s', (type) => {
    test.each(SHAPES)('round-to-nearest bytes and dequantize match the reference for [%i, %i]', async (rows, cols) => {
      const w = ref.randomFloats(rows * cols, rows * 1000 + cols, 2);
      const q = await nibble.quantize(w, [rows, cols], { type });
      const want = ref.quantize(w, rows, cols, type);
      expect(q.type).toBe(type);
      expect(q.shape).toEqual([rows, cols]);
      expect(q.byteLength).toBe(want.length);
      expect(q.bitsPerWeight).toBe(type === 'q4_0' ? 4.5 : 5);
      const got = q.toBytes();
      expect(got).toBeInstanceOf(Uint8Array);
      const bad = got.findIndex((v, i) => v !== want[i]);
      if (bad >= 0) throw new Error(`byte ${bad} (block ${Math.floor(bad / ref.BLOCK_BYTES[type])}): expected ${want[bad]}, got ${got[bad]}`);
      expect(Array.from(q.dequantize())).toEqual(Array.from(ref.dequantize(want, rows * cols, type)));
      q.dispose();
    });

    test.each([['w4a8', 1], ['w4a8', 3], ['w4a32', 1], ['w4a32', 5]])('matmul %s with m = %i matches the reference', async (precision, m) => {
      const rows = 13, cols = 160;
      const w = ref.randomFloats(rows * cols, 7, 1);
      const x = ref.randomFloats(m * cols, 11 + m, 3);
      const q = await nibble.quantize(w, [rows, cols], { type });
      const y = q.matmul(x, m, { precision });
      expect(y).toBeInstanceOf(Float32Array);
      expect(y.length).toBe(m * rows);
      const want = ref.matmul(q.toBytes(), rows, cols, type, x, m, precision);
      // The integer parts are exact; only the f32 summation order may differ.
      const bad = ref.firstMismatch(y, want.y, want.scale, 1e-5, 1e-6);
      if (bad >= 0) throw new Error(`y[${bad}] (row ${Math.floor(bad / rows)}, col ${bad % rows}): expected ${want.y[bad]}, got ${y[bad]}`);
      q.dispose();
    });
  });

  test('matmul takes m from x.length and options in second place; default precision is w4a8', async () => {
    const rows = 4, cols = 64;
    const q = await nibble.quantize(ref.randomFloats(rows * cols, 3), [rows, cols]);
    const x = ref.randomFloats(2 * cols, 4);
    expect(q.type).toBe('q4_0');
    expect(Array.from(q.matmul(x))).toEqual(Array.from(q.matmul(x, 2, { precision: 'w4a8' })));
    expect(Array.from(q.matmul(x, { precision: 'w4a32' }))).toEqual(Array.from(q.matmul(x, 2, { precision: 'w4a32' })));
    q.dispose();
  });

  test('fromBytes round-trips toBytes and computes the same', async () => {
    const rows = 6, cols = 96;
    for (const type of TYPES) {
      const a = await nibble.quantize(ref.randomFloats(rows * cols, 5), [rows, cols], { type, clip: 'mse' });
      const bytes = a.toBytes();
      const b = await nibble.fromBytes(bytes, [rows, cols], type);
      const c = await nibble.QuantizedMatrix.fromBytes(bytes.buffer, [rows, cols], type);
      const x = ref.randomFloats(cols, 6);
      expect(Array.from(b.toBytes())).toEqual(Array.from(bytes));
      expect(Array.from(c.matmul(x))).toEqual(Array.from(a.matmul(x)));
      bytes.fill(0); // the matrix holds its own copy
      expect(Array.from(b.dequantize())).toEqual(Array.from(a.dequantize()));
      [a, b, c].forEach((q) => q.dispose());
    }
  });

  test("clip 'mse' is no worse than round-to-nearest, and importance steers it", async () => {
    const rows = 16, cols = 256;
    const w = ref.randomFloats(rows * cols, 9);
    for (let i = 0; i < w.length; i += 37) w[i] *= 6; // outliers give clipping room
    for (const type of TYPES) {
      const rtn = await nibble.quantize(w, [rows, cols], { type });
      const mse = await nibble.quantize(w, [rows, cols], { type, clip: 'mse' });
      const importance = new Float32Array(cols).map((_, j) => (j % 2 ? 10 : 0.1));
      const weighted = await nibble.quantize(w, [rows, cols], { type, clip: 'mse', importance });
      const sRtn = nibble.errorStats(w, rtn), sMse = nibble.errorStats(w, mse);
      expect(sMse.rmse).toBeLessThanOrEqual(sRtn.rmse);
      expect(Array.from(weighted.toBytes())).not.toEqual(Array.from(mse.toBytes()));
      [rtn, mse, weighted].forEach((q) => q.dispose());
    }
  });
});

describe('errorStats', () => {
  let nibble;
  beforeAll(async () => {
    ({ nibble } = await loadNibble('auto'));
  });

  test('follows its definitions', () => {
    const x = [1, -2, 3, 0], y = new Float32Array([1, -1, 3, 1]);
    const s = nibble.errorStats(x, y);
    expect(s.rmse).toBeCloseTo(Math.sqrt(2 / 4), 12);
    expect(s.maxAbsError).toBe(1);
    expect(s.sqnrDb).toBeCloseTo(10 * Math.log10(14 / 2), 12);
    expect(s.cosine).toBeCloseTo(12 / Math.sqrt(14 * 12), 12);
    expect(nibble.errorStats(x, x)).toEqual({ rmse: 0, maxAbsError: 0, sqnrDb: Infinity, cosine: 1 });
    expect(nibble.errorStats([0, 0], [0, 0]).cosine).toBe(1);
  });

  test('of a quantized matrix equals that of its dequantized weights', async () => {
    const w = ref.randomFloats(4 * 64, 12);
    const q = await nibble.quantize(w, [4, 64], { type: 'q4_1' });
    const s = nibble.errorStats(w, q);
    expect(s).toEqual(nibble.errorStats(w, q.dequantize()));
    expect(s.cosine).toBeGreaterThan(0.99);
    expect(s.sqnrDb).toBeGreaterThan(15);
    q.dispose();
  });
});
