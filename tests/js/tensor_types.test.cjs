// The exported tensor-type table (generated from src/quant/tensor_types.def)
// is what the wasm module accepts: quantize() makes exactly the rows marked
// quantize, and fromBytes() reads their bytes back with the row's geometry.
const ref = require('./reference.cjs');
const { expectThrown, loadNibble } = require('./load.cjs');

let nibble;
beforeAll(async () => {
  ({ nibble } = await loadNibble('auto'));
});

const ROWS = 4, COLS = 64;
const W = ref.randomFloats(ROWS * COLS, 7);

test('the table is frozen and names every type once', () => {
  const names = nibble.tensorTypes.map((t) => t.name);
  expect(new Set(names).size).toBe(names.length);
  expect(Object.isFrozen(nibble.tensorTypes)).toBe(true);
  expect(Object.isFrozen(nibble.tensorTypes[0])).toBe(true);
  for (const t of nibble.tensorTypes) expect(t.bitsPerWeight).toBe((t.blockBytes * 8) / t.blockSize);
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
