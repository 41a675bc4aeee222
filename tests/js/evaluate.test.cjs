// evaluate(): llama-perplexity's windowed perplexity and --kl-divergence
// statistics. On the quality fixtures (tests/fixtures/quality) nibble's Q4_0
// of stories260K (byte-identical to llama-quantize --pure) reproduces
// llama.cpp's figures: W4A8 (llama.cpp's own activation rounding) its PPL
// within 0.5 % and mean KLD within 1 %; W4A32 the float64 cross-check.
const fs = require('node:fs');
const path = require('node:path');
const { expectThrown, loadNibble } = require('./load.cjs');
const { model } = require('./model_util.cjs');

const QUALITY = path.join(__dirname, '..', 'fixtures', 'quality');
const SAMPLE = fs.readFileSync(path.join(QUALITY, 'sample.txt'), 'utf8');
const RESULTS = JSON.parse(fs.readFileSync(path.join(QUALITY, 'results.json'), 'utf8'));
const Q4_0 = RESULTS.results.find((r) => r.file === 'stories260K-q4_0-pure.gguf');

jest.setTimeout(60000); // a full run of sample.txt: 2 × 12,032 tokens, about 2.5 s on an idle core

let nibble, f32, q4;
beforeAll(async () => {
  ({ nibble } = await loadNibble(true));
  f32 = await nibble.loadModel(model('stories260K.gguf'), { weights: 'f32' });
  q4 = await nibble.loadModel(model('stories260K.gguf'), { weights: 'q4_0' });
});
afterAll(() => {
  f32.dispose();
  q4.dispose();
});

const relative = (got, want) => Math.abs(got - want) / want;

test('Q4_0, W4A8: llama.cpp\'s PPL within 0.5 %, mean KLD within 1 %, same windows and counts', async () => {
  const progress = [];
  const r = await nibble.evaluate(q4, SAMPLE, { reference: f32, context: 256, onProgress: (p) => progress.push(p) });
  expect([r.tokens, r.windows, r.scored]).toEqual([RESULTS.eval_tokens, RESULTS.windows, RESULTS.scored_tokens]);
  expect(relative(r.perplexity, Q4_0.ppl)).toBeLessThan(0.005);
  expect(relative(r.kl.mean, Q4_0.kld_mean)).toBeLessThan(0.01);
  // The standard errors and the tails are the same statistics.
  expect(relative(r.perplexityError, Q4_0.ppl_err)).toBeLessThan(0.02);
  expect(relative(r.kl.error, Q4_0.kld_err)).toBeLessThan(0.03);
  expect(relative(r.kl.p99, Q4_0.kld_p99)).toBeLessThan(0.03);
  expect(Math.abs(100 * r.top1 - Q4_0.top1)).toBeLessThan(0.5);
  expect(relative(r.referencePerplexity, RESULTS.results[0].ppl)).toBeLessThan(0.001);
  expect(r.kl.median).toBeLessThan(r.kl.p90);
  expect(r.kl.p99).toBeLessThanOrEqual(r.kl.max);
  // One progress event per window, in order, the last with the final perplexity.
  expect(progress.map((p) => p.window)).toEqual(Array.from({ length: r.windows }, (_, i) => i + 1));
  expect(progress.at(-1).fraction).toBe(1);
  expect(progress.at(-1).perplexity).toBeCloseTo(r.perplexity, 10);
  expect(progress.at(-1).klMean).toBeCloseTo(r.kl.mean, 10);
});

test('Q4_0, W4A32: the float64 cross-check\'s figures (activations kept in float)', async () => {
  const r = await nibble.evaluate(q4, SAMPLE, { reference: f32, context: 256, precision: 'w4a32' });
  expect(relative(r.perplexity, Q4_0.float_ref.ppl)).toBeLessThan(0.0005);
  expect(relative(r.kl.mean, Q4_0.float_ref.kld_mean)).toBeLessThan(0.002);
  expect(relative(r.kl.p99, Q4_0.float_ref.kld_p99)).toBeLessThan(0.005);
});

test('without a reference: perplexity only; token ids score as their text does', async () => {
  const ids = q4.tokenize(SAMPLE).slice(0, 600);
  const r = await nibble.evaluate(q4, ids, { context: 128 });
  expect([r.windows, r.scored]).toEqual([4, 4 * 63]);
  expect(r.kl).toBeUndefined();
  expect(r.perplexity).toBeGreaterThan(1);
  const again = await nibble.evaluate(q4, Int32Array.from(ids), { context: 128 });
  expect(again.perplexity).toBe(r.perplexity);
});

test('bad input is refused with a message that says what to change', async () => {
  await expectThrown(() => nibble.evaluate(q4, 'Once upon a time', { context: 64 }), RangeError, /fewer than one window/);
  await expectThrown(() => nibble.evaluate(q4, SAMPLE, { context: 4096 }), RangeError, /load them with a larger options.context/);
  await expectThrown(() => nibble.evaluate(q4, 42), TypeError, /text must be a string or an array of token ids/);
  await expectThrown(() => nibble.evaluate({}, SAMPLE), TypeError, /model must be a Model/);
  await expectThrown(() => nibble.evaluate(q4, SAMPLE, { reference: 'f32' }), TypeError, /options.reference must be a Model/);
  await expectThrown(() => nibble.evaluate(q4, SAMPLE, { windows: 3 }), TypeError, /unknown option 'windows'/);
  await expectThrown(() => nibble.evaluate(q4, SAMPLE, { precision: 'w2a2' }), RangeError, /options.precision/);
  const controller = new AbortController();
  controller.abort();
  await expect(nibble.evaluate(q4, SAMPLE, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
});
