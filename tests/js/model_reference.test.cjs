// The logits judge of the golden model tests (model_reference.cjs) judges:
// the reference's own logits pass every bound, and logits that are all NaN,
// one value short, or NaN in the last value fail the F32 bound (largest
// difference) and the INT4 bounds (mean KL, top-1 agreement).
const { logitsReference, compareLogits, logitsFailures } = require('./model_util.cjs');
const modelReference = require('./model_reference.cjs');

const VOCAB = logitsReference.positions[0].logits.length;
const F32_BOUNDS = { maxDiff: 1e-4 };
const INT4_BOUNDS = { meanKl: 0.04, top1: 15 };

// The reference's logits [positions, vocab] as the model would return them.
function referenceLogits() {
  const all = new Float32Array(logitsReference.positions.length * VOCAB);
  logitsReference.positions.forEach((p, i) => all.set(p.logits, i * VOCAB));
  return all;
}

test('the reference itself passes the F32 and the INT4 bounds', () => {
  const result = compareLogits(referenceLogits(), VOCAB);
  expect(result.top1).toBe(result.positions);
  expect(logitsFailures(result, F32_BOUNDS)).toEqual([]);
  expect(logitsFailures(result, INT4_BOUNDS)).toEqual([]);
});

const BROKEN = [
  ['all NaN', () => new Float32Array(logitsReference.positions.length * VOCAB).fill(NaN)],
  ['one value short', () => referenceLogits().subarray(0, logitsReference.positions.length * VOCAB - 1)],
  ['NaN in the last value', () => {
    const all = referenceLogits();
    all[all.length - 1] = NaN;
    return all;
  }],
];

test.each(BROKEN)('%s: fails the F32 bound and the INT4 bounds', (_, make) => {
  const result = compareLogits(make(), VOCAB);
  expect(logitsFailures(result, F32_BOUNDS)).toEqual([expect.stringMatching(/^logits differ by Infinity/)]);
  expect(logitsFailures(result, INT4_BOUNDS)).toEqual(expect.arrayContaining([expect.stringMatching(/^mean KL Infinity/)]));
});

test('a reference without positions fails: nothing compared is not a pass', () => {
  const result = modelReference.compareLogits(new Float32Array(0), VOCAB, { positions: [] });
  expect(logitsFailures(result, F32_BOUNDS)).toEqual([expect.stringMatching(/^logits differ by Infinity/)]);
});

test('NaN results fail every bound: the checks are written !(x <= bound)', () => {
  const nan = { maxDiff: NaN, meanKl: NaN, maxKl: NaN, maxKlPosition: 0, top1: NaN, positions: 16, worst: null };
  expect(logitsFailures(nan, { ...F32_BOUNDS, ...INT4_BOUNDS, maxKl: 1 })).toHaveLength(4);
});

test('one position far off fails the bound at every position while the mean holds', () => {
  const all = referenceLogits();
  const row = all.subarray(5 * VOCAB, 6 * VOCAB);
  row.set(Array.from(row).reverse()); // position 5: the scores of other tokens
  const result = compareLogits(all, VOCAB);
  const bounds = { meanKl: result.maxKl / 4, maxKl: result.maxKl / 2 };
  expect(result.maxKlPosition).toBe(5);
  expect(logitsFailures(result, bounds)).toEqual([expect.stringMatching(/^KL [\d.e-]+ at position 5 \(bound at every position/)]);
});
