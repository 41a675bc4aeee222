// The exported tensor-type table (generated from src/quant/tensor_types.def)
// is what the wasm module accepts: quantize() makes exactly the rows marked
// quantize, and fromBytes() reads their bytes back with the row's geometry.
// The mixes (src/model/quant_mixes.def) name quantize types.
const ref = require('./reference.cjs');
const { expectThrown, loadNibble } = require('./load.cjs');

let nibble;
beforeAll(async () => {
  ({ nibble } = await loadNibble('auto'));
});

const ROWS = 4, COLS = 256;  // a whole block of every type (the K-quants': 256)
const W = ref.randomFloats(ROWS * COLS, 7);

test('the table is frozen and names every type once', () => {
  const names = nibble.tensorTypes.map((t) => t.name);
  expect(new Set(names).size).toBe(names.length);
  expect(Object.isFrozen(nibble.tensorTypes)).toBe(true);
  expect(Object.isFrozen(nibble.tensorTypes[0])).toBe(true);
  for (const t of nibble.tensorTypes) expect(t.bitsPerWeight).toBe((t.blockBytes * 8) / t.blockSize);
});

test('the mixes (llama-quantize file types) are frozen, named once, each on a quantize type', () => {
  const names = nibble.quantMixes.map((m) => m.name);
  expect(new Set(names).size).toBe(names.length);
  expect(Object.isFrozen(nibble.quantMixes)).toBe(true);
  expect(names).toEqual(expect.arrayContaining(['q4_0', 'q8_0', 'q4_k_m', 'q4_k_s', 'q5_k_m', 'iq4_nl']));
  for (const m of nibble.quantMixes) expect(nibble.tensorTypes.find((t) => t.name === m.base).quantize).toBe(true);
});

describe.each(typeNames())('%s', (name) => {
  test('quantize() makes it if and only if the table says so; the bytes follow its geometry', async () => {
    const row = nibble.tensorTypes.find((t) => t.name === name);
    if (!row.quantize) {
      await expectThrown(() => nibble.quantize(W, [ROWS, COLS], { type: name }), RangeError, new RegExp(`unknown type '${name}'`));
      return;
    }
    const q = await nibble.quantize(W, [ROWS, COLS], { type: name });
    try {
      expect(q.type).toBe(name);
      expect(q.bitsPerWeight).toBe(row.bitsPerWeight);
      expect(q.byteLength).toBe((ROWS * COLS / row.blockSize) * row.blockBytes);
      const back = await nibble.fromBytes(q.toBytes(), [ROWS, COLS], name);
      expect(back.dequantize()).toEqual(q.dequantize());
      back.dispose();
    } finally {
      q.dispose();
    }
  });
});

// The names, read before the module loads (describe.each runs at collection).
function typeNames() {
  return require('../../dist/nibble.cjs').tensorTypes.map((t) => [t.name]);
}
