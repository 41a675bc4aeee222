// nibble's side of the model benchmark, the same code in Node and in a page:
// load the benchmark GGUF, then per run prefill a 64-token prompt (token ids,
// one batch through the GEMM kernels) and decode 64 tokens greedily (GEMV).
// Medians over `runs`; load is timed once per run from the source.
//
//   runNibbleModel(nibble, source, { runs, promptTokens, decodeTokens, threads, simd }) ->
//     { flavour, loadMs, prefillTokPerS, decodeTokPerS, weightBytes, runs: [...] }
// simd: init()'s option (the first nibble call of the realm picks the build).

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

// A prompt of n ids: BOS then ordinary tokens (ids past the byte tokens).
function benchPrompt(n) {
  return [1, ...Array.from({ length: n - 1 }, (_, i) => 300 + ((i * 37) % 4000))];
}

export async function runNibbleModel(nibble, source, { runs = 3, promptTokens = 64, decodeTokens = 64, threads, simd } = {}) {
  const { flavour } = await nibble.init(simd === undefined ? {} : { simd });
  const results = [];
  let weightBytes = 0;
  let build = null;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const model = await nibble.loadModel(source, { weights: 'q4_0', context: 256, ...(threads ? { threads } : {}) });
    const loadMs = performance.now() - t0;
    weightBytes = model.info.loadedBytes;
    build = model.info.build ?? build;
    try {
      const run = model.generate(benchPrompt(promptTokens), { maxTokens: decodeTokens, temperature: 0, addBos: false });
      for await (const piece of run) void piece;
      const stats = await run.stats;
      results.push({
        loadMs,
        promptMs: stats.promptMs,
        generateMs: stats.generateMs,
        generatedTokens: stats.generatedTokens,
        prefillTokPerS: stats.promptTokensPerSecond,
        decodeTokPerS: stats.tokensPerSecond,
        stopReason: stats.stopReason,
      });
    } finally {
      model.dispose();
    }
  }
  return {
    flavour,
    loadMs: median(results.map((x) => x.loadMs)),
    prefillTokPerS: median(results.map((x) => x.prefillTokPerS)),
    decodeTokPerS: median(results.map((x) => x.decodeTokPerS)),
    weightBytes,
    build,
    runs: results,
  };
}
