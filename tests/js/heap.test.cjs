// The wasm heap stays flat: what quantize / fromBytes / the methods allocate
// is freed by dispose() (and failed calls free what they took).
const ref = require('./reference.cjs');
const { loadNibble } = require('./load.cjs');

test.each([['simd', true], ['scalar', false]])('%s build: heap flat over 1000 quantize/dispose cycles', async (_, simd) => {
  const { nibble } = await loadNibble(simd);
  const rows = 16, cols = 256;
  const w = ref.randomFloats(rows * cols, 1);
  const x = ref.randomFloats(3 * cols, 2);
  const bad = w.slice();
  bad[7] = NaN;
  async function cycle(i) {
    const q = await nibble.quantize(w, [rows, cols], { type: i % 2 ? 'q4_1' : 'q4_0', clip: i % 3 ? 'none' : 'mse' });
    q.matmul(x, { precision: i % 2 ? 'w4a8' : 'w4a32' });
    const copy = await nibble.fromBytes(q.toBytes(), [rows, cols], q.type);
    copy.dequantize();
    copy.dispose();
    q.dispose();
    await expect(nibble.quantize(bad, [rows, cols])).rejects.toThrow(TypeError);
  }
  // Warm-up: the first calls grow kernel scratch buffers that are kept.
  for (let i = 0; i < 10; i++) await cycle(i);
  const heapBefore = nibble._debug.heapBytesInUse();
  const memoryBefore = nibble._debug.wasmMemoryBytes();
  for (let i = 0; i < 1000; i++) await cycle(i);
  expect({ heapBytesInUse: nibble._debug.heapBytesInUse(), wasmMemoryBytes: nibble._debug.wasmMemoryBytes() })
    .toEqual({ heapBytesInUse: heapBefore, wasmMemoryBytes: memoryBefore });
});
