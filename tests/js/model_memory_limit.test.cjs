// A model larger than the 4 GB wasm heap (a 5 GB file, sparse on disk; a
// 1.6 GB Q4_0 file asked for as f32, 7× larger once widened) fails once its
// header is read, before anything is allocated, with an error that says what
// it needs and what the limit is; the module keeps working and the next,
// smaller load succeeds.
// (The multi-GB model that does fit: tests/large, npm run test:large.)
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { loadNibble } = require('./load.cjs');
const { TOO_LARGE_FOR_WASM, model, writeRandomLlamaGguf } = require('./model_util.cjs');

jest.setTimeout(30000); // a few seconds each on a busy machine

let nibble, folder;
beforeAll(async () => {
  ({ nibble } = await loadNibble('auto'));
  // A first load sets up what every load shares (tables made on first use).
  (await nibble.loadModel(model('stories260K.gguf'))).dispose();
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'nibble-limit-'));
});
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

// loadModel(file, options)'s error message, and what the heap held before
// and after it.
async function failedLoad(file, options) {
  const d = nibble._debug;
  const before = { inUse: d.heapBytesInUse(), memory: d.wasmMemoryBytes() };
  const message = await nibble.loadModel(file, options).then((m) => { m.dispose(); return 'loaded'; }, (e) => `${e.name}: ${e.message}`);
  return { message, before, after: { inUse: d.heapBytesInUse(), memory: d.wasmMemoryBytes() } };
}

test('a 5 GB file fails before allocating, saying what it needs and the limit; a small model loads next', async () => {
  const file = path.join(folder, 'too-large.gguf');
  const size = writeRandomLlamaGguf(file, TOO_LARGE_FOR_WASM, { sparse: true });
  expect(size).toBeGreaterThan(4.9e9);
  const r = await failedLoad(file);
  expect(r.message).toMatch(/^Error: nibble\.loadModel: the model needs 5\.\d\d GiB of memory to load \(5\.\d\d GiB held with its matrices as q4_0, plus 0\.\d\d GiB while converting\), but the heap is limited to 4\.00 GiB \(\d\.\d\d GiB free\); load a smaller model or a more compact weights type \(.*too-large\.gguf\)$/);
  expect(r.after.inUse).toBe(r.before.inUse);
  // Only the header went in: a staging slice and the header's bytes.
  expect(r.after.memory - r.before.memory).toBeLessThanOrEqual(8 << 20);

  const m = await nibble.loadModel(model('stories260K.gguf'));
  const { stats } = await m.complete('Once upon a time', { maxTokens: 20, temperature: 0 });
  m.dispose();
  expect(stats.generatedTokens).toBe(20);
});

test('a file that fits as Q4_0 but not widened to f32 fails the same way with weights: f32', async () => {
  // 1.6 GB of Q4_0 on disk; as f32 it would hold 7.1× more.
  const file = path.join(folder, 'wide.gguf');
  writeRandomLlamaGguf(file, { ...TOO_LARGE_FOR_WASM, layers: 3 }, { sparse: true });
  const r = await failedLoad(file, { weights: 'f32' });
  expect(r.message).toMatch(/^Error: nibble\.loadModel: the model needs 1\d\.\d\d GiB of memory to load \(1\d\.\d\d GiB held with its matrices as f32, plus \d\.\d\d GiB while converting\), but the heap is limited to 4\.00 GiB/);
  expect(r.after.inUse).toBe(r.before.inUse);
});
