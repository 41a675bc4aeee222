// Bad input throws a TypeError / RangeError / Error that says what to change,
// and the wasm module keeps working afterwards.
const path = require('node:path');
const ref = require('./reference.cjs');
const { DIST, expectThrown, loadNibble } = require('./load.cjs');

let nibble;
beforeAll(async () => {
  ({ nibble } = await loadNibble('auto'));
});

// As expectThrown, and the message names the call.
async function expectError(fn, type, pattern) {
  const error = await expectThrown(fn, type, pattern);
  expect(error.message).toMatch(/^nibble\./);
}

const W = ref.randomFloats(4 * 64, 1);

describe('quantize', () => {
  test.each([
    ['an Array', [1, 2, 3], /weights must be a Float32Array, got an Array; convert it with new Float32Array/],
    ['a Float64Array', new Float64Array(256), /got a Float64Array/],
    ['null', null, /got null/],
  ])('weights as %s -> TypeError', async (_, weights, pattern) => {
    await expectError(() => nibble.quantize(weights, [4, 64]), TypeError, pattern);
  });

  test.each([
    [undefined, TypeError, /shape must be an array \[rows, cols\], got undefined/],
    [[4, 64, 1], TypeError, /shape must be an array \[rows, cols\]/],
    [['4', 64], TypeError, /shape\[0\] \(rows\) must be a number, got the string '4'/],
    [[0, 64], RangeError, /shape\[0\] \(rows\) must be an integer from 1/],
    [[4, 64.5], RangeError, /shape\[1\] \(cols\) must be an integer from 1/],
  ])('shape %p -> %p', async (shape, type, pattern) => {
    await expectError(() => nibble.quantize(W, shape), type, pattern);
  });

  test('a length that does not match the shape -> RangeError', async () => {
    await expectError(() => nibble.quantize(W, [5, 64]), RangeError, /weights.length is 256, but shape \[5, 64\] needs rows × cols = 320/);
  });

  test('cols not a multiple of 32 -> RangeError that says how to pad', async () => {
    await expectError(() => nibble.quantize(new Float32Array(4 * 40), [4, 40]), RangeError,
      /cols = 40 is not a multiple of 32, the q4_0 block size; pad each row with zeros to 64 columns/);
  });

  test.each([[NaN, 'NaN'], [Infinity, 'infinite'], [-Infinity, 'infinite']])('%p in the weights -> TypeError with its index', async (bad, word) => {
    const w = W.slice();
    w[64 + 5] = bad;
    await expectError(() => nibble.quantize(w, [4, 64], { type: 'q4_1' }), TypeError,
      new RegExp(`value 69 \\(row 1, column 5\\) is ${word}; only finite values can be quantized`));
  });

  test('weights too large for an fp16 scale -> RangeError', async () => {
    const w = W.slice();
    w[3] = 1e7;
    await expectError(() => nibble.quantize(w, [4, 64]), RangeError, /row 0, columns 0..31 are too large for q4_0/);
  });

  test.each([
    [{ type: 'q3_k' }, RangeError, /unknown type 'q3_k'; use one of 'q4_0', 'q4_1', 'q5_0'/],
    [{ type: 'f32' }, RangeError, /unknown type 'f32'/],
    [{ type: 4 }, TypeError, /options.type must be a string/],
    [{ clip: 'max' }, RangeError, /options.clip must be 'none' or 'mse', got 'max'/],
    [{ clip: true }, TypeError, /options.clip must be a string/],
    [{ clipping: 'mse' }, TypeError, /unknown option 'clipping'; the options are 'type', 'clip', 'importance'/],
    ['q4_0', TypeError, /options must be an object, got the string 'q4_0'/],
    [{ clip: 'mse', importance: new Float32Array(63) }, RangeError, /importance.length is 63; it needs one value per column, cols = 64/],
    [{ clip: 'mse', importance: [1, 2] }, TypeError, /options.importance must be a Float32Array/],
    [{ clip: 'mse', importance: new Float32Array(64).fill(-1) }, TypeError, /importance\[0\] = -1.*finite and >= 0/],
  ])('options %p -> %p', async (options, type, pattern) => {
    await expectError(() => nibble.quantize(W, [4, 64], options), type, pattern);
  });

  test('type names are case-insensitive and come back canonical', async () => {
    const q = await nibble.quantize(W, [4, 64], { type: 'Q4_1' });
    expect(q.type).toBe('q4_1');
    q.dispose();
  });
});

describe('fromBytes', () => {
  test('bad arguments', async () => {
    const bytes = ref.quantize(W, 4, 64, 'q4_0');
    await expectError(() => nibble.fromBytes('abc', [4, 64], 'q4_0'), TypeError, /bytes must be a Uint8Array or an ArrayBuffer/);
    await expectError(() => nibble.fromBytes(bytes, [4, 64]), TypeError, /type must be a string such as 'q4_0'/);
    await expectError(() => nibble.fromBytes(bytes, [4, 64], 'q4_1'), RangeError,
      /a q4_1 matrix of shape \[4, 64\] takes 160 bytes \(20 per 32 weights\), but 144 bytes were given/);
    await expectError(() => nibble.fromBytes(bytes.subarray(1), [4, 64], 'q4_0'), RangeError, /takes 144 bytes/);
    await expectError(() => nibble.fromBytes(new Uint8Array(0), [4, 64], 'q4_0'), RangeError, /bytes is empty/);
    await expectError(() => nibble.fromBytes(bytes, [4, 64], 'q3_k'), RangeError, /unknown type 'q3_k'/);
  });

  test('a NaN or infinite scale -> Error naming the block', async () => {
    const bytes = ref.quantize(W, 4, 64, 'q4_1');
    bytes[3 * 20 + 2] = 0x00;
    bytes[3 * 20 + 3] = 0x7c; // block 3 = row 1, columns 32..63: m = +inf
    await expectError(() => nibble.fromBytes(bytes, [4, 64], 'q4_1'), Error,
      /the q4_1 block at row 1, columns 32..63 has an infinite or NaN scale; the bytes are corrupt/);
  });
});

describe('matmul', () => {
  let q;
  beforeAll(async () => {
    q = await nibble.quantize(W, [4, 64]);
  });
  afterAll(() => q.dispose());

  test.each([
    [[[1, 2]], TypeError, /x must be a Float32Array, got an Array/],
    [[new Float32Array(65)], RangeError, /x.length is 65, not a positive multiple of cols = 64/],
    [[new Float32Array(0)], RangeError, /x.length is 0/],
    [[new Float32Array(128), 3], RangeError, /x.length is 128, but m = 3 rows of cols = 64 need 192/],
    [[new Float32Array(128), 0], RangeError, /m must be a positive integer/],
    [[new Float32Array(128), '2'], TypeError, /m must be a number/],
    [[new Float32Array(64), 1, { precision: 'int8' }], RangeError, /options.precision must be 'w4a8' or 'w4a32' or 'w4a4', got 'int8'/],
    [[new Float32Array(64), { precison: 'w4a8' }], TypeError, /unknown option 'precison'; the options are 'precision'/],
  ])('matmul(%p) -> %p', async (args, type, pattern) => {
    await expectError(() => q.matmul(...args), type, pattern);
  });

  test.each([[NaN, 'NaN'], [Infinity, 'infinite']])('%p in x -> TypeError with its index', async (bad, word) => {
    const x = new Float32Array(128);
    x[64 + 2] = bad;
    await expectError(() => q.matmul(x), TypeError, new RegExp(`x\\[66\\] \\(row 1, column 2\\) is ${word}`));
  });
});

describe('dispose', () => {
  test('use after dispose throws; dispose twice is fine', async () => {
    const q = await nibble.quantize(W, [4, 64]);
    expect(q.disposed).toBe(false);
    q.dispose();
    q.dispose();
    expect(q.disposed).toBe(true);
    expect(q.shape).toEqual([4, 64]); // metadata stays readable
    for (const call of [() => q.toBytes(), () => q.dequantize(), () => q.matmul(new Float32Array(64))]) {
      await expectError(call, Error, /this QuantizedMatrix was disposed/);
    }
  });

  test('QuantizedMatrix has no public constructor', async () => {
    await expectError(() => new nibble.QuantizedMatrix(), TypeError, /no public constructor; use await nibble.quantize/);
  });
});

describe('errorStats', () => {
  test('bad arguments', async () => {
    const q = await nibble.quantize(W, [4, 64]);
    await expectError(() => nibble.errorStats(W.subarray(1), q), RangeError, /original.length is 255, but the matrix has shape \[4, 64\] = 256 weights/);
    await expectError(() => nibble.errorStats(W, W.subarray(1)), RangeError, /original.length is 256 but approx.length is 255/);
    await expectError(() => nibble.errorStats('x', q), TypeError, /original must be a Float32Array, a Float64Array or an array of numbers/);
    await expectError(() => nibble.errorStats(W, {}), TypeError, /approx must be/);
    q.dispose();
  });
});

describe('init', () => {
  // A fresh copy of the package that has not loaded its module yet.
  function freshNibble() {
    let fresh;
    jest.isolateModules(() => {
      fresh = require(path.join(DIST, 'nibble.cjs'));
    });
    return fresh;
  }

  test('bad options', async () => {
    const fresh = freshNibble();
    await expectError(() => fresh.init({ simd: 'yes' }), TypeError, /options.simd must be 'auto', 'relaxed', true or false/);
    await expectError(() => fresh.init({ wasmPath: 3 }), TypeError, /options.wasmPath must be a string or a URL/);
    await expectError(() => fresh.init({ wasmPath: path.join(DIST, 'nibble-simd.wasm') }), TypeError, /wasmPath is the folder that holds the nibble-\*\.wasm files/);
    await expectError(() => fresh.init({ threads: 0 }), RangeError, /options.threads must be 'auto' or an integer from 1 to 64, got 0/);
    await expectError(() => fresh.init({ thread: 2 }), TypeError, /unknown option 'thread'/);
  });

  test('a wasmPath without the files -> Error; a retry with the right one works', async () => {
    const fresh = freshNibble();
    await expectError(() => fresh.init({ wasmPath: path.join(__dirname, 'no-such-dir') }), Error,
      /could not read file:.*no-such-dir\/nibble-(simd|scalar)\.wasm \(ENOENT\); serve the .wasm files .* or pass init\(\{ wasmPath \}\)/);
    const info = await fresh.init({ wasmPath: DIST, simd: false });
    expect(info).toEqual({ simd: false, flavour: 'scalar', threads: 1, threadsUnavailable: null, wasmUrl: expect.stringMatching(/dist\/nibble-scalar\.wasm$/) });
    await expectError(() => fresh.init({ simd: true }), Error, /already loaded or loading with other options/);
    expect(await fresh.init()).toEqual(info); // no options: whatever is loaded
  });

  test('methods that need a loaded module say so', async () => {
    const fresh = freshNibble();
    await expectError(() => fresh._debug.heapBytesInUse(), Error, /not loaded yet; await nibble.init\(\) first/);
  });
});

test('optionChoices lists what the string options take (the CLI checks against it), frozen', () => {
  expect(nibble.optionChoices).toEqual({
    clip: ['none', 'mse'], precision: ['w4a8', 'w4a32', 'w4a4'], remedy: ['none', 'rotate', 'smooth', 'smooth+rotate'],
  });
  for (const list of [nibble.optionChoices, ...Object.values(nibble.optionChoices)]) {
    expect(Object.isFrozen(list)).toBe(true);
  }
});

test('after all these errors the module still works', async () => {
  const q = await nibble.quantize(W, [4, 64], { type: 'q4_1' });
  expect(Array.from(q.toBytes())).toEqual(Array.from(ref.quantize(W, 4, 64, 'q4_1')));
  q.dispose();
});
