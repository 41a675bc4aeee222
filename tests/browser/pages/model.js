// runModelChecks(nibble, simd): the golden model checks in the page.
// stories260K is loaded over HTTP (a URL string with progress, a URL object
// with its tokenizer URL) and from a Blob; with F32 weights its greedy text
// and token ids equal llama2.c's reference and its logits match within 1e-4;
// with INT4 weights the mean KL from F32 is ≤ 0.04 and the top-1 token agrees
// at 15 of the 16 positions or more. Also: seeds, an abort from a timer
// mid-generation, an abort during a load.
// Resolves to { info, checks, failures, notes }.
async function runModelChecks(nibble, simdParam) {
  const simd = simdParam === 'true' ? true : simdParam === 'false' ? false : simdParam === 'relaxed' ? 'relaxed' : 'auto';
  const info = await nibble.init({ simd });
  const judge = globalThis.nibbleModelReference;
  const failures = [], notes = {};
  let checks = 0;
  const check = (ok, what) => {
    checks++;
    if (!ok) failures.push(what);
  };
  const json = (url) => fetch(url).then((r) => r.json());
  const references = await json('/models/stories260K.reference.json');
  const logitsReference = await json('/models/stories260K.logits.json');

  async function golden(model, label) {
    for (const ref of references) {
      const ids = [];
      const maxTokens = ref.token_ids.length - ref.prompt_token_ids.length;
      const { text, stats } = await model.complete(ref.prompt, { maxTokens, temperature: 0, onToken: (id) => ids.push(id) });
      const prompt = model.tokenize(ref.prompt);
      // run.c prints the prompt, the generated text, then a newline.
      check(`${ref.prompt}${text}\n` === ref.output_text, `${label} '${ref.prompt}': text ${JSON.stringify(text)}`);
      check(JSON.stringify([...prompt, ...ids]) === JSON.stringify(ref.token_ids), `${label} '${ref.prompt}': token ids ${[...prompt, ...ids]}`);
      check(stats.stopReason === 'max_tokens' && stats.generatedTokens === maxTokens, `${label}: stats ${JSON.stringify(stats)}`);
      notes[`${label} tokens/s`] = Math.round(stats.tokensPerSecond);
    }
  }

  // 1. A URL string, F32 weights, with progress.
  const events = [];
  const gguf = await nibble.loadModel('/models/stories260K.gguf', { weights: 'f32', onProgress: (e) => events.push(e) });
  const order = ['download', 'load', 'ready'];
  check(events.length > 2 && events[0].status === 'download', `progress starts with 'download': ${JSON.stringify(events[0])}`);
  check(events.every((e, i) => i === 0 || (e.fraction >= events[i - 1].fraction &&
    order.indexOf(e.status) >= order.indexOf(events[i - 1].status))), 'progress never goes backwards');
  const last = events[events.length - 1];
  check(last.status === 'ready' && last.fraction === 1 && last.loaded === 1185376 && last.total === 1185376, `last progress ${JSON.stringify(last)}`);
  notes.progressEvents = events.length;
  await golden(gguf, 'gguf f32');
  gguf.dispose();

  // 2. A URL object with its tokenizer URL (llama2.c checkpoint), F32: golden and logits.
  const bin = await nibble.loadModel(new URL('/models/stories260K.bin', location.href), { weights: 'f32', tokenizer: '/models/tok512.bin' });
  await golden(bin, 'bin f32');
  const inputs = logitsReference.positions.map((p) => p.input_token);
  const f32 = judge.compareLogits(bin.logits(inputs, { precision: 'w4a32' }), 512, logitsReference);
  const f32Failures = judge.logitsFailures(f32, { maxDiff: 1e-4 });
  check(f32Failures.length === 0, `f32 ${f32Failures.join('; ')}`);
  notes.f32MaxDiff = f32.maxDiff;
  bin.dispose();

  // 3. Blobs, INT4 weights: close to F32; seeds reproduce; abort mid-generation.
  const blob = async (url) => new Blob([await (await fetch(url)).arrayBuffer()]);
  const int4 = await nibble.loadModel(await blob('/models/stories260K.bin'), { tokenizer: await blob('/models/tok512.bin') });
  check(int4.info.weightType === 'q4_0' && int4.info.fallbacks.length === 5, `int4 info ${JSON.stringify(int4.info.fallbacks)}`);
  const q = judge.compareLogits(int4.logits(inputs), 512, logitsReference);
  console.log(`q4_0 w4a8: mean KL from F32 ${q.meanKl.toFixed(4)}, top-1 agreement ${q.top1}/${q.positions}`);
  const int4Failures = judge.logitsFailures(q, { meanKl: 0.04, top1: 15 });
  check(int4Failures.length === 0, `int4 ${int4Failures.join('; ')}`);
  notes.int4 = { meanKl: q.meanKl, top1: `${q.top1}/${q.positions}` };
  const sample = (seed) => int4.complete('Once upon a time', { maxTokens: 40, temperature: 1, seed }).then((r) => r.text);
  const [a, b, c] = [await sample(3), await sample(3), await sample(4)];
  check(a === b && a !== c, `seeds: ${JSON.stringify([a, b, c])}`);
  // The timer is armed at the first piece; a sampled story may still reach
  // its end first at thousands of tokens/s, so a few seeds are tried.
  let stats, pieces;
  for (let seed = 1; seed <= 5 && stats?.stopReason !== 'abort'; seed++) {
    const controller = new AbortController();
    const run = int4.generate('Once upon a time', { maxTokens: 100000, temperature: 1, seed, signal: controller.signal });
    pieces = 0;
    for await (const _ of run) { // eslint-disable-line no-unused-vars
      if (pieces++ === 0) setTimeout(() => controller.abort(), 1);
    }
    stats = await run.stats;
  }
  check(stats.stopReason === 'abort' && pieces > 0 && stats.generatedTokens < 2048, `abort from a timer: ${JSON.stringify(stats)}, ${pieces} pieces`);
  notes['int4 tokens/s'] = Math.round(stats.tokensPerSecond);
  int4.dispose();

  // 4. Abort during a load.
  const loadAbort = new AbortController();
  try {
    await nibble.loadModel('/models/stories260K.gguf', { signal: loadAbort.signal, onProgress: () => loadAbort.abort() });
    check(false, 'an aborted load resolved');
  } catch (e) {
    check(e.name === 'AbortError', `an aborted load threw ${e}`);
  }
  return { info, checks, failures, notes };
}
