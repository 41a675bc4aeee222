// The golden end-to-end test through the JS API: stories260K with F32
// weights, greedy, gives llama2.c's reference text and token ids exactly
// (from the GGUF file and from the llama2.c checkpoint + tokenizer), its
// logits match within 1e-4, and with INT4 weights the distribution stays
// close (mean KL ≤ 0.04, top-1 agreement at 15 of the 16 positions or more).
// In the SIMD, the relaxed-SIMD and the scalar build.
const fs = require('node:fs');
const path = require('node:path');
const { enableRelaxedSimd, loadNibble } = require('./load.cjs');
const { model, references, logitsReference, compareLogits, logitsFailures } = require('./model_util.cjs');

const SOURCES = [
  ['stories260K.gguf', {}],
  ['stories260K.bin + tok512.bin', { tokenizer: model('tok512.bin') }],
];
const file = (name) => model(name.split(' ')[0]);

describe.each([['simd', true], ['simd-relaxed', 'relaxed'], ['scalar', false]])('%s build', (flavour, simd) => {
  let nibble;
  let disableRelaxed = () => {};
  beforeAll(async () => {
    if (simd === 'relaxed') disableRelaxed = enableRelaxedSimd();
    let info;
    ({ nibble, info } = await loadNibble(simd));
    expect(info.flavour).toBe(flavour);
  });
  afterAll(() => disableRelaxed());

  test.each(SOURCES)('%s, f32 weights: greedy output equals the llama2.c reference exactly', async (name, options) => {
    const m = await nibble.loadModel(file(name), { ...options, weights: 'f32' });
    try {
      expect(m.info.weightType).toBe('f32');
      for (const ref of references) {
        const promptIds = m.tokenize(ref.prompt);
        expect(promptIds).toEqual(ref.prompt_token_ids);
        const maxTokens = ref.token_ids.length - ref.prompt_token_ids.length;
        const ids = [];
        const { text, stats } = await m.complete(ref.prompt, { maxTokens, temperature: 0, onToken: (id) => ids.push(id) });
        // run.c prints the prompt, the generated text, then a newline of its own.
        expect({ prompt: ref.prompt, text: `${ref.prompt}${text}\n` }).toEqual({ prompt: ref.prompt, text: ref.output_text });
        expect([...promptIds, ...ids]).toEqual(ref.token_ids);
        expect(stats).toMatchObject({ promptTokens: promptIds.length, generatedTokens: maxTokens, stopReason: 'max_tokens' });
        expect(`${m.detokenize(ref.token_ids)}\n`).toBe(ref.output_text);
      }
    } finally {
      m.dispose();
    }
  });

  test('f32 logits match stories260K.logits.json within 1e-4', async () => {
    const m = await nibble.loadModel(model('stories260K.bin'), { tokenizer: model('tok512.bin'), weights: 'f32' });
    const ids = logitsReference.positions.map((p) => p.input_token);
    const result = compareLogits(m.logits(ids, { precision: 'w4a32' }), m.info.vocabSize);
    m.dispose();
    console.log(`[${flavour}] f32 logits: largest difference ${result.maxDiff.toExponential(2)}`);
    expect(logitsFailures(result, { maxDiff: 1e-4 })).toEqual([]);
  });

  test.each([['q4_0', 'w4a8'], ['q4_0', 'w4a32'], ['q4_1', 'w4a8']])('%s weights, %s: mean KL from F32 ≤ 0.04, top-1 agreement ≥ 15/16', async (weights, precision) => {
    const m = await nibble.loadModel(model('stories260K.bin'), { tokenizer: model('tok512.bin'), weights });
    expect(m.info.weightType).toBe(weights);
    const ids = logitsReference.positions.map((p) => p.input_token);
    const result = compareLogits(m.logits(ids, { precision }), m.info.vocabSize);
    m.dispose();
    console.log(`[${flavour}] ${weights} ${precision}: mean KL ${result.meanKl.toFixed(4)}, top-1 agreement ${result.top1}/${result.positions}`);
    expect(logitsFailures(result, { meanKl: 0.04, top1: 15 })).toEqual([]);
  });

  test('q4_0 weights, w4a4: the remedies folded in on load (options.remedy) bring the KL down (measured: 0.048 raw, 0.017 smooth+rotate)', async () => {
    const importance = fs.readFileSync(path.join(__dirname, '../fixtures/quality/imatrix.gguf'));
    const ids = logitsReference.positions.map((p) => p.input_token);
    const kl = {};
    for (const [remedy, extra] of [['none', {}], ['smooth+rotate', { importance }]]) {
      const m = await nibble.loadModel(model('stories260K.gguf'), { weights: 'q4_0', remedy, ...extra });
      expect(m.info.remedy).toBe(remedy);
      const result = compareLogits(m.logits(ids, { precision: 'w4a4' }), m.info.vocabSize);
      if (remedy !== 'none') {  // the written file says which remedy it carries
        const back = await nibble.loadModel(m.toGguf());
        expect(back.info.remedy).toBe(remedy);
        back.dispose();
      }
      m.dispose();
      expect(logitsFailures(result, { meanKl: 0.1, top1: 15 })).toEqual([]);
      kl[remedy] = result.meanKl;
    }
    expect(kl['smooth+rotate']).toBeLessThan(kl.none * 0.75);
  });
});
