// Agreement with llama.cpp (tests/fixtures/llamacpp, its README gives the
// bounds): every fixture file but llama-q3_k_m.gguf, loaded with the default
// options, gives llama.cpp's logits at all 16 positions within its file
// type's max |Δ|, mean KL and KL at every position; F16 files load with
// weights 'f32' (by default their matrices become Q4_0, and the F16 bounds are
// those of a float engine). The type matrix (llama-*) and one F16 and one
// Q4_K_M file per architecture (qwen2, qwen3, gemma2, gemma3, phi3, Llama 3's
// rope_freqs). Some files also one token at a time through the KV cache
// (batch: 1). llama-q3_k_m.gguf is refused, naming a Q3_K tensor.
// Prints a table of max |Δ| and mean KL per file.
const fs = require('node:fs');
const path = require('node:path');
const { expectThrown, loadNibble } = require('./load.cjs');
const { REPO } = require('./model_util.cjs');
const { compareLogits, logitsFailures, llamaCppReference, llamaCppBounds, tokenByTokenFixtures } = require('./model_reference.cjs');

const DIR = path.join(REPO, 'tests', 'fixtures', 'llamacpp');
const REFUSED = 'llama-q3_k_m.gguf';
const FILES = fs.readdirSync(DIR).filter((f) => f.endsWith('.gguf') && f !== REFUSED).sort();
const TOKEN_BY_TOKEN = tokenByTokenFixtures(FILES);

const reference = (file) => JSON.parse(fs.readFileSync(path.join(DIR, file.replace(/\.gguf$/, '.logits.json')), 'utf8'));
const loadOptions = (file) => (/-f16\.gguf$/.test(file) ? { weights: 'f32' } : {});

let nibble;
const rows = [];
beforeAll(async () => {
  ({ nibble } = await loadNibble(true));
});
afterAll(() => {
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(24) : c.padStart(10))).join(' ');
  console.log([line(['file', 'weights', 'max|Δ|', 'mean KL', 'max KL', 'top-1']),
    ...rows.map((r) => line([r.file, r.weights, r.maxDiff.toFixed(4), r.meanKl.toExponential(2), r.maxKl.toExponential(2), `${r.top1}/16`]))].join('\n'));
});

// file's logits for the reference's tokens, judged by the README's bounds.
async function judge(file, logitsOptions) {
  const json = reference(file);
  const m = await nibble.loadModel(path.join(DIR, file), loadOptions(file));
  try {
    expect(json.tokens).toHaveLength(16);
    const result = compareLogits(m.logits(json.tokens, logitsOptions), m.info.vocabSize, llamaCppReference(json));
    return { result, weights: m.info.weightType };
  } finally {
    m.dispose();
  }
}

test('the fixtures are all there', () => {
  expect(FILES).toHaveLength(25);
  for (const file of FILES) expect(fs.existsSync(path.join(DIR, file.replace(/\.gguf$/, '.logits.json')))).toBe(true);
});

test.each(FILES)('%s: llama.cpp\'s logits within the README\'s bounds', async (file) => {
  const { result, weights } = await judge(file);
  rows.push({ file, weights, ...result });
  expect(logitsFailures(result, llamaCppBounds(file))).toEqual([]);
});

test.each(TOKEN_BY_TOKEN)('%s, one token at a time through the KV cache: within the same bounds', async (file) => {
  const { result } = await judge(file, { batch: 1 });
  expect(logitsFailures(result, llamaCppBounds(file))).toEqual([]);
});

test(`${REFUSED} is refused, naming a Q3_K tensor`, async () => {
  await expectThrown(() => nibble.loadModel(path.join(DIR, REFUSED)), Error,
    /^Error: nibble\.loadModel: GGUF tensor blk\.0\.attn_k\.weight has type q3_k which nibble does not support/);
});
