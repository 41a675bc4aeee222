// nibble's side of the model benchmark, the same code in Node and in a page:
// load the benchmark GGUF, then per run and prompt length prefill a prompt
// (token ids, one batch through the GEMM kernels) and decode 64 tokens
// greedily (GEMV). Medians over `runs`; load is timed once per run from the
// source, then a warm-up generation per prompt length. ttft: the generation's own
// stats.ttftMs (from its start to its first token). Memory during the first
// load: malloc's high-water mark (nibble._debug, as
// tests/js/model_load.test.cjs measures it) over the heap the loaded model
// holds (issue #12's bound: ≤ 1.25×).
//
//   runNibbleModel(nibble, source, { runs, promptTokens: [64, 512], decodeTokens, threads, simd, weights, comparePrecision, cpuClock }) ->
//     { flavour, build, loadMs, weightBytes, loadHeapBytes, loadPeakHeapBytes,
//       results: [{ promptTokens, prefillTokPerS, decodeTokPerS, prefillCpuTokPerS, decodeCpuTokPerS, ttftMs, runs }], compared }
// simd: init()'s option (the first nibble call of the realm picks the build).
// weights: loadModel()'s (undefined keeps the file's tensor types).
// comparePrecision ('w4a4'): each run's first prompt is generated again at
// that precision right after the default one (w4a8), same model, so that
// compared.decodeRatio (the median of the runs' paired ratios) is measured
// under the same load; compared: null without it.
// cpuClock: an async () => ms of CPU time of the thread (or process) that
// runs the model (Node: the main thread's schedstat; a page: the renderer's
// main thread through CDP). With it each generation also gets rates over CPU time
// (prefillCpuTokPerS, decodeCpuTokPerS; else null): on a shared machine they
// move far less than wall time when other work takes the core, so the
// bench's ratios between builds and engines pair those.

export const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

// A prompt of n ids: BOS then ordinary tokens (ids past the byte tokens).
// Prompts of different lengths differ from their second token on: generate()
// reuses the KV cache of a common prefix, which would leave the prompts after
// the warm-up (and the 512-token one after the 64-token one) partly computed.
// `salt` gives another prompt of the same length (the warm-up's).
export function benchPrompt(n, salt = 0) {
  return [1, ...Array.from({ length: n - 1 }, (_, i) => 300 + ((i * 37 + n + salt) % 4000))];
}
const WARM_UP_SALT = 2000;

// One generation with CPU marks at its call, at its first piece of text and
// at its end -> { stats, prefillCpuTokPerS, decodeCpuTokPerS }. A piece
// can hold several tokens (the bytes of one character): the decode steps
// before the first piece are taken out of the prompt's CPU at the decode
// rate measured after it.
async function timedGeneration(model, ids, options, cpuClock) {
  let tokens = 0;
  const run = model.generate(ids, { ...options, onToken: () => { tokens++; } });
  const c0 = cpuClock ? await cpuClock() : null;
  let c1 = null, firstTokens = 0;
  for await (const piece of run) {
    void piece;
    if (cpuClock && c1 === null) {
      c1 = await cpuClock();
      firstTokens = tokens;
    }
  }
  const stats = await run.stats;
  if (!cpuClock || c1 === null || tokens <= firstTokens) return { stats, prefillCpuTokPerS: null, decodeCpuTokPerS: null };
  const c2 = await cpuClock();
  const decodeMsPerToken = (c2 - c1) / (tokens - firstTokens);
  const promptCpuMs = c1 - c0 - (firstTokens - 1) * decodeMsPerToken;
  return {
    stats,
    prefillCpuTokPerS: (1000 * (stats.promptTokens - stats.cachedTokens)) / promptCpuMs,
    decodeCpuTokPerS: 1000 / decodeMsPerToken,
  };
}

export async function runNibbleModel(nibble, source, { runs = 3, promptTokens = [64], decodeTokens = 64, threads, simd, weights, comparePrecision, cpuClock } = {}) {
  const { flavour } = await nibble.init({ ...(simd === undefined ? {} : { simd }), ...(threads ? { threads } : {}) });
  const measured = promptTokens.map(() => []);
  const pairs = [];  // comparePrecision: [{ decodeTokPerS, prefillTokPerS, decodeRatio }] per run
  const loads = [];
  let weightBytes = 0;
  let build = null;
  let loadHeapBytes = null, loadPeakHeapBytes = null;
  for (let r = 0; r < runs; r++) {
    const heap0 = nibble._debug.heapBytesInUse();
    const t0 = performance.now();
    const context = Math.max(...promptTokens) + decodeTokens;
    const model = await nibble.loadModel(source, { context, ...(weights ? { weights } : {}), ...(threads ? { threads } : {}) });
    loads.push(performance.now() - t0);
    // The first load of the realm: the high-water mark is the load's own
    // (later ones could only report an earlier, higher mark).
    if (r === 0) {
      loadHeapBytes = nibble._debug.heapBytesInUse() - heap0;
      loadPeakHeapBytes = nibble._debug.heapPeakBytes() - heap0;
    }
    weightBytes = model.info.loadedBytes;
    build = model.info.build ?? build;
    try {
      // Warm-up: the engine compiles the kernels on first use (baseline
      // tier, then optimized in the background); timed runs should not. A
      // prompt of each timed length, so that the code paths of that size
      // run before: after an 8-token warm-up, the first 64-token prefill
      // ran at ~0.75x the later ones' rate with 2 threads (~0.95x with one).
      for (const n of promptTokens) {
        for await (const piece of model.generate(benchPrompt(n, WARM_UP_SALT), { maxTokens: 8, temperature: 0, addBos: false })) void piece;
      }
      const generated = (n, options = {}) =>
        timedGeneration(model, benchPrompt(n), { maxTokens: decodeTokens, temperature: 0, addBos: false, ...options }, cpuClock);
      for (const [i, n] of promptTokens.entries()) {
        const { stats, prefillCpuTokPerS, decodeCpuTokPerS } = await generated(n);
        if (comparePrecision && i === 0) {
          // Another precision: not the cached prefix of the run before.
          const { stats: other } = await generated(n, { precision: comparePrecision });
          pairs.push({ decodeTokPerS: other.tokensPerSecond, prefillTokPerS: other.promptTokensPerSecond,
            decodeRatio: other.tokensPerSecond / stats.tokensPerSecond });
        }
        measured[i].push({
          ttftMs: stats.ttftMs,
          cachedTokens: stats.cachedTokens,  // 1 (the BOS of the run before): the rest is computed
          promptMs: stats.promptMs,
          generateMs: stats.generateMs,
          generatedTokens: stats.generatedTokens,
          prefillTokPerS: stats.promptTokensPerSecond,
          decodeTokPerS: stats.tokensPerSecond,
          prefillCpuTokPerS,
          decodeCpuTokPerS,
          stopReason: stats.stopReason,
        });
      }
    } finally {
      model.dispose();
    }
  }
  return {
    flavour,
    build,
    loadMs: median(loads),
    weightBytes,
    loadHeapBytes,
    loadPeakHeapBytes,
    results: promptTokens.map((n, i) => ({
      promptTokens: n,
      prefillTokPerS: median(measured[i].map((x) => x.prefillTokPerS)),
      decodeTokPerS: median(measured[i].map((x) => x.decodeTokPerS)),
      prefillCpuTokPerS: cpuClock ? median(measured[i].map((x) => x.prefillCpuTokPerS)) : null,
      decodeCpuTokPerS: cpuClock ? median(measured[i].map((x) => x.decodeCpuTokPerS)) : null,
      ttftMs: median(measured[i].map((x) => x.ttftMs)),
      runs: measured[i],
    })),
    compared: comparePrecision ? {
      precision: comparePrecision,
      promptTokens: promptTokens[0],
      decodeTokPerS: median(pairs.map((x) => x.decodeTokPerS)),
      prefillTokPerS: median(pairs.map((x) => x.prefillTokPerS)),
      decodeRatio: median(pairs.map((x) => x.decodeRatio)),
      runs: pairs,
    } : null,
  };
}
