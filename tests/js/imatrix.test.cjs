// Importance matrices: loadModel(..., { importance }) with llama-imatrix's
// file of the quality fixtures quantizes stories260K as llama-quantize
// --pure --imatrix does, byte for byte (Q4_0, Q4_1, IQ4_NL: the 31 matrices
// with data; token_embd, which has none, as without); collectImportance()
// on the same calibration text writes the same file layout with sums within
// float rounding of llama.cpp's (plus each matrix's Σx, the in_sum of newer
// llama-imatrix files), and from text the model samples itself.
const fs = require('node:fs');
const path = require('node:path');
const { expectThrown, loadNibble } = require('./load.cjs');
const { model } = require('./model_util.cjs');
const { ggufTensors } = require('./gguf_tensors.cjs');

const QUALITY = path.join(__dirname, '..', 'fixtures', 'quality');
const IMATRIX = fs.readFileSync(path.join(QUALITY, 'imatrix.gguf'));
const CALIB = fs.readFileSync(path.join(QUALITY, 'calib.txt'), 'utf8');
const LLAMA = JSON.parse(fs.readFileSync(path.join(QUALITY, 'imatrix_tensors.json'), 'utf8'));
const GGUF = model('stories260K.gguf');

jest.setTimeout(30000);

let nibble;
beforeAll(async () => {
  ({ nibble } = await loadNibble(true));
});

// The matmul weights' sums, counts and (when the file has them) column sums
// of an imatrix file: { name: { sums, count, valueSums } }.
const KINDS = { in_sum2: 'sums', counts: 'count', in_sum: 'valueSums' };
function importanceOf(bytes) {
  const tensors = ggufTensors(Buffer.from(bytes));
  const out = {};
  for (const [name, t] of Object.entries(tensors)) {
    const floats = new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
    const [, weight, suffix] = name.match(/^(.*)\.(in_sum2|counts|in_sum)$/);
    const kind = KINDS[suffix];
    out[weight] = { ...out[weight], [kind]: kind === 'count' ? floats[0] : floats };
  }
  return out;
}

test.each(['q4_0', 'q4_1', 'iq4_nl'])('%s with llama-imatrix\'s file: llama-quantize --imatrix\'s tensors, byte for byte', async (type) => {
  const m = await nibble.loadModel(GGUF, { weights: type, importance: IMATRIX });
  try {
    expect(m.info.importanceMatrices).toBe(31);
    const got = ggufTensors(Buffer.from(m.toGguf()));
    const want = LLAMA[`stories260K-${type}-pure-imatrix.gguf`];
    const differ = Object.keys(want).filter((name) => got[name]?.sha256 !== want[name].sha256);
    expect(differ).toEqual([]);
  } finally {
    m.dispose();
  }
});

test('quantize(w, shape, { importance }) without clip: llama-quantize --imatrix\'s bytes for one matrix', async () => {
  const name = 'blk.2.ffn_gate.weight';
  const t = ggufTensors(fs.readFileSync(GGUF))[name];
  const w = new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
  const { sums, count } = importanceOf(IMATRIX)[name];
  const importance = sums.map((v) => v / count);
  for (const type of ['q4_0', 'q4_1', 'iq4_nl']) {
    const q = await nibble.quantize(w, [t.shape[1], t.shape[0]], { type, importance });
    const sha = require('node:crypto').createHash('sha256').update(q.toBytes()).digest('hex');
    expect(sha).toBe(LLAMA[`stories260K-${type}-pure-imatrix.gguf`][name].sha256);
    q.dispose();
  }
});

test('collectImportance on calib.txt: llama-imatrix\'s file layout, counts and sums (within float rounding)', async () => {
  const f32 = await nibble.loadModel(GGUF, { weights: 'f32' });
  try {
    const progress = [];
    const r = await nibble.collectImportance(f32, CALIB, { context: 256, dataset: 'calib.txt', onProgress: (p) => progress.push(p.window) });
    expect([r.tokens, r.windows, r.positions]).toEqual([10101, 39, 9984]);
    expect(progress).toEqual(Array.from({ length: 39 }, (_, i) => i + 1));
    // llama-imatrix's tensors in its order, each matrix's Σx (in_sum, as
    // newer llama-imatrix writes it; this fixture's older one has none)
    // after its counts.
    const written = ggufTensors(Buffer.from(r.bytes)), llama = ggufTensors(IMATRIX);
    const names = Object.keys(written);
    expect(names.filter((n) => !n.endsWith('.in_sum'))).toEqual(Object.keys(llama));
    expect(names.filter((n) => n.endsWith('.in_sum'))).toHaveLength(36);
    // The header's keys, in order, with their values and value types
    // (general.type, imatrix.datasets, .chunk_count, .chunk_size), and each
    // of llama-imatrix's tensors' type and shape.
    expect(Object.keys(written.metadata)).toEqual(Object.keys(llama.metadata));
    expect(written.metadata).toStrictEqual(llama.metadata);
    for (const [name, t] of Object.entries(llama)) expect([name, written[name].type, written[name].shape]).toEqual([name, t.type, t.shape]);
    const got = importanceOf(r.bytes), want = importanceOf(IMATRIX);
    expect(Object.keys(got)).toEqual(Object.keys(want));
    let worst = 0;
    for (const [name, w] of Object.entries(want)) {
      expect(got[name].count).toBe(w.count);
      expect(w.valueSums).toBeUndefined();
      w.sums.forEach((v, j) => { worst = Math.max(worst, Math.abs(got[name].sums[j] - v) / Math.max(v, 1e-3)); });
      // (Σx)² ≤ count·Σx² (Cauchy–Schwarz), and not every column centred.
      const { valueSums, sums, count } = got[name];
      expect(valueSums).toHaveLength(sums.length);
      valueSums.forEach((v, j) => expect(v * v).toBeLessThanOrEqual(count * sums[j] * (1 + 1e-4)));
      expect(valueSums.some((v) => v !== 0)).toBe(true);
    }
    expect(worst).toBeLessThan(1e-3);
  } finally {
    f32.dispose();
  }
});

test('from the model itself: options.self tokens, the same for the same seed', async () => {
  const f32 = await nibble.loadModel(GGUF, { weights: 'f32' });
  try {
    const a = await nibble.collectImportance(f32, null, { self: 300, seed: 7, context: 128 });
    const b = await nibble.collectImportance(f32, null, { self: 300, seed: 7, context: 128 });
    expect([a.tokens, a.windows, a.positions]).toEqual([300, 2, 256]);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    const q = await nibble.loadModel(GGUF, { weights: 'q4_0', importance: a });
    expect(q.info.importanceMatrices).toBe(31);
    q.dispose();
  } finally {
    f32.dispose();
  }
});

test('bad input is refused with a message that says what to change', async () => {
  const f32 = await nibble.loadModel(GGUF, { weights: 'f32' });
  try {
    await expectThrown(() => nibble.collectImportance(f32, null), TypeError, /options.self/);
    await expectThrown(() => nibble.collectImportance(f32, 'Once', { self: 10 }), TypeError, /either a text or options.self/);
    await expectThrown(() => nibble.collectImportance(f32, 'Once upon a time'), RangeError, /fewer than one window/);
    await expectThrown(() => nibble.collectImportance({}, CALIB), TypeError, /model must be a Model/);
    await expectThrown(() => nibble.loadModel(GGUF, { importance: new Uint8Array([1, 2, 3, 4, 5]) }), Error, /not an imatrix GGUF file/);
    await expectThrown(() => nibble.loadModel(GGUF, { importance: 'imatrix.gguf' }), TypeError, /options.importance must be a Uint8Array/);
  } finally {
    f32.dispose();
  }
});
