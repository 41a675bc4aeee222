// Model.logits in Node: ids.length × vocab values from an empty cache of its
// own, equal to a freshly loaded model's, whatever ran before; a generation
// (finished, or paused mid-way) continues as if logits had not been called;
// one token at a time (batch: 1) gives what each prefix gives; the heap
// stays flat; bad input is refused with a message that says what to change.
const { expectThrown, loadNibble } = require('./load.cjs');
const { model } = require('./model_util.cjs');

const GGUF = model('stories260K.gguf');
const PROMPT = 'Once upon a time';
const IDS = [1, 403, 407, 261, 378, 432, 383, 286];

let nibble, stories;
beforeAll(async () => {
  ({ nibble } = await loadNibble(true));
  stories = await nibble.loadModel(GGUF); // q4_0
});
afterAll(() => stories.dispose());

// The index of the first value that differs bit for bit, or -1.
function firstDifference(a, b) {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

test('a Float32Array of ids.length × vocabSize, row i scoring the token after ids[0..i]', async () => {
  const vocab = stories.info.vocabSize;
  const all = stories.logits(IDS);
  expect(all).toBeInstanceOf(Float32Array);
  expect(all.length).toBe(IDS.length * vocab);
  expect(all.every(Number.isFinite)).toBe(true);
  // The last row is what greedy generation picks next.
  const last = all.subarray((IDS.length - 1) * vocab);
  const best = last.indexOf(Math.max(...last));
  const next = [];
  await stories.complete(IDS, { maxTokens: 1, temperature: 0, onToken: (id) => next.push(id) });
  expect(next).toEqual([best]);
});

test('equals a freshly loaded model\'s logits, after generations and other logits calls', async () => {
  const fresh = await nibble.loadModel(GGUF);
  try {
    const want = fresh.logits(IDS);
    await stories.complete(PROMPT, { maxTokens: 30, seed: 2 });
    stories.logits([1, 2, 3]);
    const got = stories.logits(IDS);
    expect(firstDifference(got, want)).toBe(-1);
    // Also in Int32Array and Uint32Array form, and with f32 activations.
    expect(firstDifference(stories.logits(Int32Array.from(IDS)), want)).toBe(-1);
    expect(firstDifference(stories.logits(Uint32Array.from(IDS)), want)).toBe(-1);
    expect(firstDifference(stories.logits(IDS, { precision: 'w4a32' }), fresh.logits(IDS, { precision: 'w4a32' }))).toBe(-1);
  } finally {
    fresh.dispose();
  }
});

test('generate -> logits -> generate with the same seed gives the text of generate -> generate', async () => {
  const opts = { maxTokens: 40, temperature: 1, seed: 9 };
  const a = await stories.complete(PROMPT, opts);
  const b = await stories.complete(PROMPT, opts);
  stories.logits(IDS);
  const c = await stories.complete(PROMPT, opts);
  expect(b.text).toBe(a.text);
  expect(c.text).toBe(a.text);
});

test('logits in the middle of a generation leaves it as it was', async () => {
  const opts = { maxTokens: 40, temperature: 1, seed: 4 };
  const whole = await stories.complete(PROMPT, opts);
  let text = '', calls = 0;
  for await (const piece of stories.generate(PROMPT, opts)) {
    text += piece;
    if (calls++ % 10 === 3) stories.logits(IDS);
  }
  expect(calls).toBeGreaterThan(4);
  expect(text).toBe(whole.text);
});

test('batch 1 (one token at a time through the KV cache): each prefix gives the rows of the whole', () => {
  const vocab = stories.info.vocabSize;
  const whole = stories.logits(IDS, { batch: 1 });
  for (const n of [1, 3, IDS.length]) {
    const prefix = stories.logits(IDS.slice(0, n), { batch: 1 });
    expect(firstDifference(prefix, whole.subarray(0, n * vocab))).toBe(-1);
  }
  // And close to the batched pass: GEMV and GEMM kernels may sum in another
  // order (measured: bit-identical with the Q4_0 kernels).
  const batched = stories.logits(IDS);
  let maxDiff = 0;
  for (let i = 0; i < whole.length; i++) maxDiff = Math.max(maxDiff, Math.abs(whole[i] - batched[i]));
  expect(maxDiff).toBeLessThan(1e-4);
});

test('the wasm heap is back where it was after logits calls, failed ones included', () => {
  stories.logits(IDS); // the first call sets up scratch that stays (~1 KB)
  const before = nibble._debug.heapBytesInUse();
  for (let i = 0; i < 3; i++) stories.logits(IDS.slice(0, 3), { batch: 1 + i }); // a result kept would differ in size
  expect(() => stories.logits([1, 512])).toThrow(RangeError);
  expect(nibble._debug.heapBytesInUse()).toBe(before);
});

describe('bad input', () => {
  test.each([
    ['no ids', [[]], RangeError, /^RangeError: nibble\.Model\.logits: ids is empty; give at least one token id/],
    ['a string', ['Once'], TypeError, /^TypeError: nibble\.Model\.logits: ids must be an array of token ids, got the string 'Once'/],
    ['a fraction', [[1, 2.5]], RangeError, /^RangeError: nibble\.Model\.logits: ids\[1\] = 2\.5 is not a token id \(0 \.\. 511\)/],
    ['an id past the vocabulary', [[1, 512]], RangeError, /ids\[1\] = 512 is not a token id \(0 \.\. 511\)/],
    ['a negative id', [[-1]], RangeError, /ids\[0\] = -1 is not a token id/],
    ['NaN', [[NaN]], RangeError, /ids\[0\] = NaN is not a token id/],
    ['an unknown option', [[1], { batchSize: 4 }], TypeError, /unknown option 'batchSize'; the options are 'precision', 'batch'/],
    ['batch 0', [[1], { batch: 0 }], RangeError, /options\.batch must be an integer from 1 to 2147483647, got 0/],
    ['a bad precision', [[1], { precision: 'w8a8' }], RangeError, /options\.precision must be 'w4a8' or 'w4a32' or 'w4a4', got 'w8a8'/],
  ])('%s', async (_, args, type, pattern) => {
    await expectThrown(() => stories.logits(...args), type, pattern);
  });

  test('more ids than the context holds', async () => {
    const small = await nibble.loadModel(GGUF, { context: 8 });
    try {
      expect(small.logits(new Array(8).fill(1)).length).toBe(8 * 512);
      await expectThrown(() => small.logits(new Array(9).fill(1)), RangeError,
        /ids has 9 tokens but the context holds 8; shorten it or load with a larger options\.context/);
    } finally {
      small.dispose();
    }
  });

  test('after dispose', async () => {
    const m = await nibble.loadModel(GGUF);
    m.dispose();
    await expectThrown(() => m.logits([1]), Error, /^Error: nibble\.Model\.logits: this Model was disposed/);
  });
});
